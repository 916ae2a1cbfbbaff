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

struct OverloadTests {
    @Test func aFullWriterQueueAnswers503AtOnceAndTheHubRecovers() async throws {
        try await withTemporaryDirectory { directory in
            let (store, tokens, app) = try await makeHub(directory, queueCapacity: 4)
            let token = tokens.issue(subject: TokenService.operatorSubject, scopes: [.manage])
            let headers: HTTPFields = [.authorization: "Bearer \(token)", .contentType: "application/json"]
            @Sendable func body(_ index: Int) -> ByteBuffer {
                ByteBuffer(
                    string: #"{"name": "a\#(index)", "type": "basic", "basicAuth": {"username": "u", "password": "p"}}"#
                )
            }
            try await app.test(.router) { client in
                try await withThrowingTaskGroup(of: Int.self) { group in
                    // The writer is not running: four requests fill its queue and wait.
                    for index in 0..<4 {
                        group.addTask {
                            try await client.execute(
                                uri: "/conversation/conversationmgr/v3/authentications",
                                method: .post,
                                headers: headers,
                                body: body(index)
                            ) { Int($0.status.code) }
                        }
                    }
                    while store.writer.queueDepth < 4 { await Task.yield() }
                    try await client.execute(
                        uri: "/conversation/conversationmgr/v3/authentications",
                        method: .post,
                        headers: headers,
                        body: body(9)
                    ) { response in
                        #expect(response.status == .serviceUnavailable)
                        #expect(response.headers[.retryAfter] == "1")
                        #expect(String(buffer: response.body).contains(#""code":"503-101""#))
                    }
                    // Load drops: the writer runs, the waiting requests are answered.
                    group.addTask {
                        try await store.writer.run()
                        return 0
                    }
                    var statuses: [Int] = []
                    for try await status in group where status != 0 {
                        statuses.append(status)
                        if statuses.count == 4 { store.writer.shutDown() }
                    }
                    #expect(statuses == [201, 201, 201, 201])
                }
            }
            await store.close()
        }
    }
}
