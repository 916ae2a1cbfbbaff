import HTTPTypes
import HubCommands
import HubDomain
import HubEventLog
import HubReadModels
import HubSQLite
import HubVault
import Hummingbird
import Logging
import NIOCore

/// Renders every error a handler throws in the API's own format.
///
/// Domain rejections map once, here, to the API's status and code (``APIError/init(_:)``). Store errors too: the writer's queue full or shutting down → 503 `503-101` with
/// `Retry-After`, storage that fails to write (a full disk, an I/O error; nothing of the request was
/// kept) → 503 `503-102` with `Retry-After`, a stream conflict → 409, an event refused for its
/// content → 400; anything else is the hub's own failure → 500 `500-101`, logged with its detail
/// (never sent to the caller). A body larger than the route reads (`NIOTooManyBytesError`) → 413
/// `413-101`; Hummingbird's own `HTTPError`s keep their status and headers in the API's format.
struct ErrorMappingMiddleware: RouterMiddleware {
    typealias Context = HubRequestContext

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch is NIOTooManyBytesError {
            // Its `maxBytes` can be what was left of the limit after the first chunk: not said.
            throw APIError.bodyTooLarge(limit: nil)
        } catch let error as HTTPError {
            throw APIErrorWithHeaders(
                error: APIError(
                    statusCode: Int(error.status.code),
                    code: "\(error.status.code)-100",
                    developerMessage: error.body ?? error.status.reasonPhrase
                ),
                headers: error.headers
            )
        } catch let error as any HTTPResponseError {
            throw error
        } catch let rejection as Rejection {
            throw APIError(rejection)
        } catch let error as EventStoreError {
            throw Self.map(error, logger: context.logger)
        } catch is CancellationError {
            throw APIError(
                statusCode: 503,
                code: "503-101",
                developerMessage: "The hub is shutting down; retry shortly."
            )
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)"])
            throw APIError(statusCode: 500, code: "500-101", developerMessage: "Internal server error.")
        }
    }

    static func map(_ error: EventStoreError, logger: Logger) -> APIError {
        switch error {
        case .overloaded, .shuttingDown:
            return APIError(
                statusCode: 503,
                code: "503-101",
                developerMessage: "The hub is busy or shutting down; retry shortly.",
                details: [.init(key: "Retry-After", value: "1")]
            )
        case .wrongExpectedVersion:
            return APIError(statusCode: 409, code: "409-101", developerMessage: "\(error)")
        case .eventTooLarge, .invalidEvent:
            return APIError(statusCode: 400, code: "400-102", developerMessage: "\(error)")
        case .storage(let failure):
            // The writer logs the failure (once a second while it lasts); the request only says so.
            logger.debug("storage failure", metadata: ["error": "\(failure)"])
            return APIError(
                statusCode: 503,
                code: "503-102",
                developerMessage: "The hub cannot write to its storage right now (\(failure.code.summary)); "
                    + "nothing of this request was kept. Retry later.",
                details: [.init(key: "Retry-After", value: "1")]
            )
        }
    }
}

extension APIError {
    /// 413 `413-101`: the request body is larger than the route accepts.
    static func bodyTooLarge(limit: Int?) -> APIError {
        APIError(
            statusCode: 413,
            code: "413-101",
            developerMessage: "The request body is larger than this route accepts"
                + (limit.map { " (\($0) bytes)." } ?? "."),
            details: limit.map { [.init(key: "maxBytes", value: String($0))] } ?? []
        )
    }
}

/// An ``APIError`` with response headers of its own (`Allow` on a 405, those of a Hummingbird error).
struct APIErrorWithHeaders: HTTPResponseError {
    let error: APIError
    let headers: HTTPFields

    var status: HTTPResponse.Status { error.status }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try error.response(from: request, context: context)
        for field in headers where response.headers[field.name] == nil { response.headers.append(field) }
        return response
    }
}
