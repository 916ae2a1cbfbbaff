import Foundation
import HubDomain
import HubTestSupport
import HubTools
import Synchronization
import Testing

/// The live event feed and `hubstore events`, against a real `hubstore serve`.
@Suite(.timeLimit(.minutes(5)))
struct EventFeedCommandTests {
    /// The positions one subscriber received, in order.
    final class Received: Sendable {
        let positions = Mutex<[Int64]>([])
        let heartbeats = Atomic<Int>(0)

        var last: Int64 { positions.withLock { $0.last ?? 0 } }
        var all: [Int64] { positions.withLock { $0 } }

        /// Takes one event; `false` once `target` (when set) is reached.
        func take(_ event: ServerSentEvent, target: Goal) -> Bool {
            if event.comment == "heartbeat" {
                heartbeats.add(1, ordering: .relaxed)
            } else if let id = event.id, let position = Int64(id) {
                positions.withLock { $0.append(position) }
            }
            let goal = target.position.load(ordering: .relaxed)
            return goal < 0 || last < goal
        }
    }

    /// The position every subscriber must reach; -1 until known.
    final class Goal: Sendable {
        let position = Atomic<Int64>(-1)
    }

    static func head(port: Int, token: String) async throws -> Int64 {
        let (status, body) = try await httpGet(
            port: port,
            path: "/v1/events?limit=1",
            headers: ["Authorization": "Bearer " + token]
        )
        #expect(status == 200, "\(body)")
        guard case .integer(let head)? = try JSONValue.parse(body)["head"] else { return -1 }
        return head
    }

    @Test func twoSubscribersGetEveryPositionOnceInOrderUnderLoadAndAReconnectMissesNothing() async throws {
        try await withTemporaryDirectory { directory in
            let data = directory + "/data"
            let demo = try await ChildProcess.run(["demo", "--data", data])
            #expect(demo.status == 0, "\(demo.stderr)")
            let (server, port, token) = try await ReplayCommandTests.serve(data)
            let live = "http://127.0.0.1:\(port)/v1/events/live?from=1&heartbeat=1"
            let target = Goal()
            let first = Received()
            let second = Received()
            let stop = StopFlag()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await ServerSentEventsClient.follow(live, token: token) { first.take($0, target: target) }
                }
                group.addTask {
                    // Leaves after 40 events, and comes back where it left off.
                    var count = 0
                    let last = try await ServerSentEventsClient.follow(live, token: token) { event in
                        if event.id != nil { count += 1 }
                        return second.take(event, target: target) && count < 40
                    }
                    try await Task.sleep(for: .milliseconds(300))
                    try await ServerSentEventsClient.follow(live, token: token, lastEventID: last) {
                        second.take($0, target: target)
                    }
                }
                for sender in 1...4 {
                    group.addTask {
                        let statuses = try await RebuildCommandTests.send(
                            port: port,
                            token: token,
                            sender: sender,
                            stop: stop
                        )
                        #expect(statuses.allSatisfy { $0 == 202 })
                    }
                }
                while stop.requests < 150 { try await Task.sleep(for: .milliseconds(20)) }
                stop.set()
                // The deliveries go on committing for a while: the goal is the head once they are done.
                var head: Int64 = 0
                for _ in 0..<100 {
                    try await Task.sleep(for: .milliseconds(200))
                    let now = try await Self.head(port: port, token: token)
                    if now == head { break }
                    head = now
                }
                target.position.store(head, ordering: .relaxed)
                try await group.waitForAll()
                // Every position once, in order, through the goal; a retried delivery of the demo's
                // (its receivers are gone) may commit after the head looked settled, and be taken too.
                #expect(first.all == Array(1...max(head, first.all.last ?? 0)))
                #expect(second.all == Array(1...max(head, second.all.last ?? 0)))
                #expect(head > 150)
            }
            // Idle, the stream keeps itself alive; it starts at the head (what commits after is new).
            let headBefore = try await Self.head(port: port, token: token)
            let idle = Received()
            let quiet = Goal()
            let clock = ContinuousClock()
            let started = clock.now
            try await ServerSentEventsClient.follow(
                "http://127.0.0.1:\(port)/v1/events/live?heartbeat=1",
                token: token
            ) { event in
                _ = idle.take(event, target: quiet)
                return idle.heartbeats.load(ordering: .relaxed) < 2
            }
            #expect(idle.all.allSatisfy { $0 > headBefore }, "from the head: nothing old")
            #expect(started.duration(to: clock.now) >= .seconds(1.5))
            server.signal(SIGTERM)
            #expect(try await server.waitForExit() == 0)
        }
    }

    @Test func eventsPrintsTheLogAndFollowsNewCommits() async throws {
        try await withTemporaryDirectory { directory in
            let data = directory + "/data"
            try ExportImportCommandTests.copyFixture(to: data)
            let lines = try await ChildProcess.run(["events", "--data", data, "--limit", "3"])
            #expect(lines.status == 0, "\(lines.stderr)")
            let printed = lines.stdout.split(separator: "\n")
            #expect(printed.count == 3)
            #expect(printed.first?.hasPrefix("1 2026-") == true)
            #expect(printed.first?.contains(" authentication.created authentication/") == true)
            // Sealed unless --content.
            let sealed = try await ChildProcess.run([
                "events", "--data", data, "--type", "conversation.started", "--json",
            ])
            #expect(sealed.stdout.split(separator: "\n").count == 2)
            #expect(!sealed.stdout.contains("john.smith@example.com") && sealed.stdout.contains("$sealed:v1:"))
            let opened = try await ChildProcess.run([
                "events", "--data", data, "--type", "conversation.started", "--json", "--content",
            ])
            #expect(opened.stdout.contains("john.smith@example.com"), "\(opened.stdout)")
            // A copy without its key (a backup kept apart from it) is read, and no key is made for it.
            let keyless = directory + "/keyless"
            try FileManager.default.createDirectory(atPath: keyless, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: data + "/hub.sqlite", toPath: keyless + "/hub.sqlite")
            let read = try await ChildProcess.run(["events", "--data", keyless, "--limit", "1"])
            #expect(read.status == 0 && read.stdout.hasPrefix("1 "), "\(read.stderr)")
            #expect(!FileManager.default.fileExists(atPath: keyless + "/master.key"))
            let bad = try await ChildProcess.run(["events", "--data", data, "--since", "yesterday"])
            #expect(bad.status == 64 && bad.stderr.contains("--since must be an RFC 3339 time"), "\(bad.stderr)")

            // --follow beside a running server prints what it commits.
            let (server, port, token) = try await ReplayCommandTests.serve(data)
            let follower = try ChildProcess(["events", "--data", data, "--from", "74", "--follow"])
            try await follower.waitFor("the log's last event") { $0.standardOutput.contains("74 ") }
            let (status, _) = try await httpRequest(
                port: port,
                path: "/conversation/conversationmgr/v3/conversations/messages",
                method: "POST",
                headers: ["Authorization": "Bearer " + token, "Content-Type": "application/json"],
                body: """
                    {"messages": {"message": [{"messageId": "follow-1", "type": {"value": "text"},
                      "content": {"text": "hello"}, "sender": {"type": "customer"},
                      "conversation": {"account": {"address": "1000", "channel": {"type": "web_chat"}},
                        "customer": {"contacts": {"contact": [{"type": "email", "address": "f@example.com"}]}}}}]}}
                    """
            )
            #expect(status == 202)
            try await follower.waitFor("the new message") { $0.standardOutput.contains(" message.received ") }
            follower.signal(SIGTERM)
            _ = try await follower.waitForExit()
            // A conversation's history names the head, and verify checks the log up to it.
            let (historyStatus, history) = try await httpGet(
                port: port,
                path: "/v1/conversations/01a2325c-6d27-703e-b388-841159ac624b/history",
                headers: ["Authorization": "Bearer " + token]
            )
            #expect(historyStatus == 200)
            let head = try JSONValue.parse(history)["head"]
            guard case .integer(let position)? = head?["position"], let hash = head?["hash"]?.stringValue else {
                Issue.record("no head in \(history.prefix(200))")
                return
            }
            let verify = try await ChildProcess.run(["verify", "--data", data, "--expect-head", "\(position):\(hash)"])
            #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
            let wrong = try await ChildProcess.run([
                "verify", "--data", data, "--expect-head", "\(position):" + String(repeating: "0", count: 64),
            ])
            #expect(wrong.status == 1)
            server.signal(SIGTERM)
            _ = try await server.waitForExit()
        }
    }
}
