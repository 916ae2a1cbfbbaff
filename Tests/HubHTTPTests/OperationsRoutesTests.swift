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
import Logging
import Testing

struct OperationsRoutesTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test func readinessFollowsTheWriterAndMetricsShowTheStore() async throws {
        try await withTemporaryDirectory { directory in
            let (store, tokens, app) = try await makeHub(directory)
            let admin = tokens.issue(subject: TokenService.operatorSubject, scopes: [.admin])
            try await app.test(.live) { client in
                try await client.execute(uri: "/healthz", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body) == #"{"status":"ok"}"#)
                }
                // The writer is not running yet: not ready.
                try await client.execute(uri: "/readyz", method: .get) { response in
                    #expect(response.status == .serviceUnavailable)
                }
                try await store.withWriter { store in
                    while !store.writer.isRunning { await Task.yield() }
                    _ = try await store.append([EventDraft(type: "t.x", data: "{}")], to: "s/1")
                    _ = try await store.append([EventDraft(type: "t.x", data: "{}")], to: "s/2")
                    try await client.execute(uri: "/readyz", method: .get) { response in
                        #expect(response.status == .ok)
                        #expect(String(buffer: response.body) == #"{"position":"2","status":"ready"}"#)
                    }
                    try await client.execute(
                        uri: "/metrics",
                        method: .get,
                        headers: [.authorization: "Bearer \(admin)"]
                    ) { response in
                        #expect(response.status == .ok)
                        #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
                        let text = String(buffer: response.body)
                        #expect(text.contains("hubstore_events_appended_total 2"))
                        #expect(text.contains("hubstore_log_head_position 2"))
                        #expect(text.contains("hubstore_writer_batch_size_bucket"))
                        #expect(text.contains("hubstore_writer_commit_duration_seconds_bucket"))
                        #expect(text.contains("hubstore_sqlite_wal_size_bytes"))
                        #expect(text.contains("hubstore_writer_queue_depth 0"))
                        // The process's CPU time (a test process has used some) and its storage writes.
                        let cpu = text.split(separator: "\n").first { $0.hasPrefix("process_cpu_seconds_total ") }
                        #expect(cpu.flatMap { Double($0.split(separator: " ")[1]) } ?? 0 > 0, "\(cpu ?? "")")
                        #expect(text.contains("hubstore_process_storage_written_bytes "))
                        // The CPU time by threads: every group, and in all no more than the process's.
                        let groups = ["writer", "wal_sync", "event_loops", "tasks", "dispatch", "other"]
                        let byThreads = groups.compactMap { group in
                            text.split(separator: "\n")
                                .first { $0.hasPrefix("hubstore_process_thread_cpu_seconds{threads=\"\(group)\"} ") }
                                .flatMap { Double($0.split(separator: " ")[1]) }
                        }
                        #expect(byThreads.count == groups.count, "\(text)")
                        let process = cpu.flatMap { Double($0.split(separator: " ")[1]) } ?? 0
                        // Read a moment later than the process's, and rounded to clock ticks.
                        #expect(byThreads.reduce(0, +) <= process + 0.1, "\(byThreads) \(process)")
                    }
                }
                try await client.execute(
                    uri: "/no-such-route",
                    method: .get,
                    headers: [.authorization: "Bearer \(admin)"]
                ) { response in
                    #expect(response.status == .notFound)
                }
            }
            await store.close()
        }
    }

    @Test func theServerRunsAndStopsWhenItsTaskIsCancelled() async throws {
        try await withTemporaryDirectory { directory in
            let port = AsyncStream<Int>.makeStream()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await HubServer.run(
                        ServerConfiguration(port: 0, store: .init(dataDirectory: directory)),
                        logger: logger,
                        onServerRunning: { port.continuation.yield($0) }
                    )
                }
                var ports = port.stream.makeAsyncIterator()
                let bound = try #require(await ports.next())
                #expect(bound > 0)
                group.cancelAll()
            }
            // The directory lock was released: the store opens again.
            let store = try await EventStore.open(.init(dataDirectory: directory), readModels: .hub)
            await store.close()
        }
    }
}
