import HTTPTypes
import HubCommands
import HubDomain
@_spi(Storage) import HubEventLog
import HubHTTP
import HubReadModels
import HubTestSupport
import HubVault
import Hummingbird
import HummingbirdTesting
import Testing

/// What a full disk looks like to a client: 503 with `Retry-After` in the API's error format, a
/// readiness probe that says not ready, and writes that resume by themselves once space returns.
struct FullDiskTests {
    @Test func whileWritesFailTheAPIAnswers503AndReadyzIsNotReadyThenBothRecover() async throws {
        try await withTemporaryDirectory { directory in
            defer { FaultInjection.disarm(directory: directory) }
            try await withHub(directory, vfs: FaultInjection.vfsName) { store, tokens, app in
                let token = tokens.issue(subject: TokenService.operatorSubject, scopes: [.manage])
                let headers: HTTPFields = [.authorization: "Bearer \(token)", .contentType: "application/json"]
                @Sendable func create(
                    _ client: some TestClientProtocol,
                    _ name: String
                ) async throws -> (Int, String, String?) {
                    try await client.execute(
                        uri: "/conversation/conversationmgr/v3/authentications",
                        method: .post,
                        headers: headers,
                        body: ByteBuffer(
                            string:
                                #"{"name": "\#(name)", "type": "basic", "basicAuth": {"username": "u", "password": "p"}}"#
                        )
                    ) { (Int($0.status.code), String(buffer: $0.body), $0.headers[.retryAfter]) }
                }
                try await app.test(.router) { client in
                    #expect(try await create(client, "before").0 == 201)
                    let position = store.headPosition
                    // The disk is full: every write fails.
                    FaultInjection.arm(directory: directory, operations: .write)
                    for attempt in 0..<3 {
                        let (status, body, retryAfter) = try await create(client, "during-\(attempt)")
                        #expect(status == 503, "\(body)")
                        #expect(retryAfter != nil)
                        let error = try JSONValue.parse(body)
                        #expect(error["code"]?.stringValue == "503-102")
                        #expect(error["developerMessage"]?.stringValue?.contains("full") == true)
                    }
                    #expect(store.headPosition == position)
                    try await client.execute(uri: "/readyz", method: .get) { response in
                        #expect(response.status == .serviceUnavailable)
                        #expect(String(buffer: response.body).contains("storage-failing"))
                    }
                    let admin = tokens.issue(subject: TokenService.operatorSubject, scopes: [.admin])
                    @Sendable func metrics() async throws -> String {
                        try await client.execute(
                            uri: "/metrics",
                            method: .get,
                            headers: [.authorization: "Bearer \(admin)"]
                        ) { String(buffer: $0.body) }
                    }
                    #expect(try await metrics().contains("hubstore_writer_storage_failing 1"))
                    // Space returns: the next probe finds out by itself, with no request writing.
                    FaultInjection.disarm(directory: directory)
                    try await Task.sleep(for: .milliseconds(1100))
                    try await client.execute(uri: "/readyz", method: .get) { response in
                        #expect(response.status == .ok, "\(String(buffer: response.body))")
                    }
                    #expect(try await create(client, "after").0 == 201)
                    #expect(try await metrics().contains("hubstore_writer_storage_failing 0"))
                    #expect(store.headPosition == position + 1)
                }
            }
        }
    }
}
