import AsyncHTTPClient
import Crypto
import Foundation
import HubCommands
import HubDomain
import HubEventLog
import HubReadModels
import HubVault
import NIOCore
import NIOHTTP1
import Synchronization

/// What one POST to a callback came to.
struct CallbackResponse: Sendable {
    var status: Int?
    var latencyMilliseconds: Int64
    var error: String?

    var isSuccess: Bool { status.map { (200..<300).contains($0) } ?? false }
    /// 408, 429, 5xx and network errors are worth another attempt (spec §5.1 [P]).
    var isRetryable: Bool {
        guard let status else { return true }
        return status == 408 || status == 429 || status >= 500
    }
}

/// POSTs callback bodies with the role's headers and Authorization (spec §5.1): Basic, or an OAuth2
/// bearer token fetched from `tokenRequestUrl`, extracted with `accessTokenPath` and cached until a
/// callback answers 401.
final class CallbackClient: Sendable {
    private let client: HTTPClient
    private let timeout: Duration
    private let tokens = Mutex<[String: String]>([:])

    init(client: HTTPClient, timeout: Duration) {
        self.client = client
        self.timeout = timeout
    }

    /// Sends one call; with OAuth2, a 401 fetches a new token and sends once more. Returns every
    /// response in order (one, or two after a refresh).
    func send(_ call: DeliveryCall, to endpoint: CallbackEndpoint) async -> [CallbackResponse] {
        var responses: [CallbackResponse] = []
        var refreshed = false
        while true {
            let started = ContinuousClock.now
            let authorization: String?
            do {
                authorization = try await self.authorization(endpoint.authentication, refresh: refreshed)
            } catch {
                responses.append(
                    CallbackResponse(
                        status: nil,
                        latencyMilliseconds: started.duration(to: .now).milliseconds,
                        error: "token request failed: \(error)"
                    )
                )
                return responses
            }
            let response = await post(call, to: endpoint, authorization: authorization, started: started)
            responses.append(response)
            if response.status == 401, case .oauth2 = endpoint.authentication, !refreshed {
                refreshed = true
                continue
            }
            return responses
        }
    }

    private func post(
        _ call: DeliveryCall,
        to endpoint: CallbackEndpoint,
        authorization: String?,
        started: ContinuousClock.Instant
    ) async -> CallbackResponse {
        var request = HTTPClientRequest(url: endpoint.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let webhook = endpoint.webhook {
            for (name, value) in Self.webhookHeaders(webhook, body: call.payload) {
                request.headers.add(name: name, value: value)
            }
        } else {
            request.headers.add(name: "X-egain-request-id", value: call.requestId)
        }
        for header in endpoint.headers { request.headers.replaceOrAdd(name: header.name, value: header.value) }
        if let authorization { request.headers.replaceOrAdd(name: "Authorization", value: authorization) }
        request.body = .bytes(ByteBuffer(string: call.payload))
        do {
            let response = try await client.execute(request, timeout: .init(timeout))
            _ = try? await response.body.collect(upTo: 1 << 20)
            return CallbackResponse(
                status: Int(response.status.code),
                latencyMilliseconds: started.duration(to: .now).milliseconds,
                error: nil
            )
        } catch {
            return CallbackResponse(
                status: nil,
                latencyMilliseconds: started.duration(to: .now).milliseconds,
                error: Self.describe(error)
            )
        }
    }

    private func authorization(_ authentication: CallbackAuthentication?, refresh: Bool) async throws -> String? {
        switch authentication {
        case nil: return nil
        case .basic(let username, let password):
            return "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
        case .oauth2(let settings):
            if !refresh, let cached = tokens.withLock({ $0[settings.key] }) { return "Bearer " + cached }
            let token = try await fetchToken(settings)
            tokens.withLock { $0[settings.key] = token }
            return "Bearer " + token
        }
    }

    /// Calls `tokenRequestUrl` with the configured method, headers and payload.
    private func fetchToken(_ settings: OAuth2Settings) async throws -> String {
        var url = settings.tokenRequestUrl
        var request: HTTPClientRequest
        if settings.method.uppercased() == "GET" {
            if !settings.payload.isEmpty { url += (url.contains("?") ? "&" : "?") + settings.payload }
            request = HTTPClientRequest(url: url)
            request.method = .GET
        } else {
            request = HTTPClientRequest(url: url)
            request.method = .POST
            request.body = .bytes(ByteBuffer(string: settings.payload))
        }
        for header in settings.headers { request.headers.replaceOrAdd(name: header.name, value: header.value) }
        let response = try await client.execute(request, timeout: .init(timeout))
        let body = try await response.body.collect(upTo: 1 << 20)
        guard (200..<300).contains(Int(response.status.code)) else {
            throw TokenError("token endpoint answered \(response.status.code)")
        }
        guard let json = try? JSONValue.parse(bytes: body.readableBytesView),
            let token = AccessTokenPath.extract(settings.accessTokenPath, from: json)
        else { throw TokenError("no token at accessTokenPath \(settings.accessTokenPath)") }
        return token
    }

    /// A LivePerson webhook's headers (connector spec §8.2): the account, the app, and the body's
    /// signature, `sha1=` + Base64(HMAC-SHA1(key: client secret, message: the body's bytes)).
    static func webhookHeaders(_ webhook: WebhookSigning, body: String) -> [(String, String)] {
        let mac = HMAC<Insecure.SHA1>.authenticationCode(
            for: Array(body.utf8),
            using: SymmetricKey(data: Array(webhook.secret.utf8))
        )
        return [
            ("x-liveperson-account-id", webhook.account), ("x-liveperson-client-id", webhook.clientId),
            ("x-liveperson-signature", "sha1=" + Data(mac).base64EncodedString()),
        ]
    }

    /// Connection errors without addresses' internals or secrets.
    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            if error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout { return "timeout" }
            return "\(error)"
        }
        return String(describing: type(of: error)) + ": \(error)"
    }

    struct TokenError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
