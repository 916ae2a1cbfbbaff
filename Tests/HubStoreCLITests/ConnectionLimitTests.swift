import Foundation
import HubTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Connection exhaustion: idle connections, slow requests and more connections than the process has
/// descriptors for, against the real binary started under a low `ulimit -n`.
@Suite(.timeLimit(.minutes(5)))
struct ConnectionLimitTests {
    /// `hubstore serve` under `ulimit -n LIMIT` (the shell sets the soft and the hard limit alike, so the
    /// server cannot raise it).
    func serve(fileLimit: Int, _ directory: String, _ flags: [String]) throws -> ChildProcess {
        try ChildProcess(
            [
                "-c", "ulimit -n \(fileLimit) && exec \"$0\" \"$@\"", hubstoreBinary, "serve", "--data", directory,
                "--port", "0",
            ]
                + flags,
            executable: "/bin/sh"
        )
    }

    @Test func moreIdleConnectionsThanTheFileLimitLeaveTheServerAnswering() async throws {
        try await withTemporaryDirectory { directory in
            // An idle timeout long enough that a loaded machine (a parallel test run, a build beside it)
            // gets through the 400 accepts before it.
            let server = try serve(fileLimit: 256, directory, ["--idle-timeout", "20s", "--log-format", "json"])
            let port = try await listeningPort(server)
            let start = try #require(
                server.standardError.split(separator: "\n").first { $0.contains("hubstore starting") }
            )
            #expect(start.contains(#""files.limit":"256""#))
            // 256 descriptors: the minimum of 16 connections (the rest kept for the store and callbacks).
            #expect(start.contains(#""connections.max":"16""#))

            let sockets = (0..<400).map { _ in RawConnection(port: port, blocking: false) }
            defer { for socket in sockets { socket.close() } }
            #expect(sockets.allSatisfy { $0.descriptor >= 0 })
            // Let the server accept them all, closing the idle longest past its maximum: it keeps 16
            // open, so at least 384 are closed by it. Waiting a fixed time was not enough: the listen
            // backlog is smaller than 400, so some connects are retried by the kernel a second or more
            // later, and each of those accepts closed the connection idle longest, which on a loaded
            // machine could be the health check's, accepted but not yet read (a reset).
            try await waitUntilAsync("the server to accept the 400 and close all but 16", timeout: .seconds(25)) {
                sockets.count { $0.isClosedByPeer } >= 400 - 16
            }

            let asked = ContinuousClock.now
            let health = try await httpGet(port: port, path: "/healthz")
            #expect(health.status == 200)
            #expect(asked.duration(to: .now) < .seconds(20), "answered only after the idle timeout")
            #expect(kill(server.pid, 0) == 0)

            // The idle timeout closes the ones kept too.
            let kept = sockets.filter { !$0.isClosedByPeer }
            #expect(!kept.isEmpty && kept.count <= 16)
            try await waitUntilAsync("the kept idle connections to be closed", timeout: .seconds(40)) {
                kept.allSatisfy(\.isClosedByPeer)
            }
            #expect(try await httpGet(port: port, path: "/healthz").status == 200)
            server.signal(SIGTERM)
            #expect(try await server.waitForExit() == 0)
        }
    }

    /// A maximum above what the descriptors allow is lowered: running out of descriptors would kill
    /// the process (libdispatch traps when its worker monitor cannot open `/proc/<tid>/stat`). With a
    /// delivery retried meanwhile (each attempt a new socket), the server lives and answers.
    @Test func aMaximumAboveTheDescriptorsIsLoweredAndTheServerLives() async throws {
        try await withTemporaryDirectory { directory in
            let server = try serve(
                fileLimit: 128,
                directory,
                [
                    "--idle-timeout", "10s", "--max-connections", "1000", "--log-format", "json",
                    "--delivery-retries", Array(repeating: "1s", count: 30).joined(separator: ","),
                ]
            )
            let port = try await listeningPort(server)
            #expect(server.standardError.contains("--max-connections lowered"))
            #expect(server.standardError.contains(#""connections.max":"16""#))
            let token = try await ChildProcess.run([
                "token", "--data", directory, "--scope",
                "app.conversation.conversationmgr.manage app.conversation.conversationmgr.interaction.manage",
            ])
            let api = HubAPI(port: port, token: token.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            // Nothing listens on port 1: every attempt opens a new socket, and is refused.
            try await api.configureAgentOnlyAccount(callbacks: "http://127.0.0.1:1")
            let (status, body) = try await api.post(
                "/conversations/messages",
                #"""
                {"messages": {"message": [{"messageId": "m-1", "type": {"value": "text"}, "content": {"text": "hello"},
                  "sender": {"type": "customer"},
                  "conversation": {"account": {"address": "555", "channel": {"type": "crash_channel"}},
                    "customer": {"contacts": {"contact": [{"type": "email", "address": "c@example.com"}]}}}}]}}
                """#
            )
            #expect(status == 202, "\(body)")

            let sockets = (0..<300).map { _ in RawConnection(port: port, blocking: false) }
            defer { for socket in sockets { socket.close() } }
            try await Task.sleep(for: .seconds(3))
            if kill(server.pid, 0) != 0 {
                let status = try? await server.waitForExit(timeout: .seconds(2))
                Issue.record("the server died (status \(String(describing: status))): \(server.standardError)")
                return
            }
            let asked = ContinuousClock.now
            let health = try await httpGet(port: port, path: "/healthz")
            #expect(health.status == 200)
            // Well before the 10 s idle timeout, with room for a machine busy with the other tests.
            #expect(asked.duration(to: .now) < .seconds(8), "answered only after the idle timeout")
            #expect(kill(server.pid, 0) == 0)
            // Deliveries kept being attempted and recorded throughout.
            try await waitUntil("delivery attempts recorded", timeout: .seconds(30)) {
                try deliveriesRecorded(directory, type: "delivery.attempted") >= 3
            }
            server.signal(SIGTERM)
            #expect(try await server.waitForExit() == 0)
            let verify = try await ChildProcess.run(["verify", "--data", directory])
            #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        }
    }

    @Test func aRequestMustArriveWithinTheRequestTimeout() async throws {
        try await withTemporaryDirectory { directory in
            let server = try serve(fileLimit: 1024, directory, ["--request-timeout", "1s", "--idle-timeout", "30s"])
            let port = try await listeningPort(server)

            // Headers that never end: 408, then the connection closes.
            let slowHead = RawConnection(port: port, blocking: true)
            defer { slowHead.close() }
            slowHead.send("GET /healthz HTTP/1.1\r\nHost: hub\r\n")
            let started = ContinuousClock.now
            let answer = slowHead.readAll()
            #expect(answer.hasPrefix("HTTP/1.1 408"), "\(answer)")
            #expect(started.duration(to: .now) < .seconds(10))

            // A body that never ends: the connection closes.
            let slowBody = RawConnection(port: port, blocking: true)
            defer { slowBody.close() }
            slowBody.send(
                "POST /oauth2/token HTTP/1.1\r\nHost: hub\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                    + "Content-Length: 100\r\n\r\ngrant_type="
            )
            let bodyStarted = ContinuousClock.now
            _ = slowBody.readAll()
            #expect(bodyStarted.duration(to: .now) < .seconds(10))

            // An ordinary keep-alive connection is unaffected by the request timeout while idle.
            let idle = RawConnection(port: port, blocking: true)
            defer { idle.close() }
            try await Task.sleep(for: .seconds(2))
            idle.send("GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n")
            #expect(idle.readSome().hasPrefix("HTTP/1.1 200"))
            server.signal(SIGTERM)
            #expect(try await server.waitForExit() == 0)
        }
    }
}

/// The flags of both: connection limits and log-head checkpoints (item 17's, kept here with item 9's).
struct ConnectionAndCheckpointFlagTests {
    @Test(arguments: [
        (["--idle-timeout", "0s"], "idle timeout must look like 60s"),
        (["--request-timeout", "soon"], "request timeout must look like 60s"),
        (["--max-connections=-1"], "max connections must be between 1 and 1000000"),
        (["--checkpoint-events", "0"], "checkpoint events must be between 1 and 1000000000"),
        (["--checkpoint-interval", "0s"], "checkpoint interval must look like 10s"),
    ])
    func badValuesGiveAClearMessage(_ flags: [String], _ message: String) async throws {
        try await withTemporaryDirectory { directory in
            let result = try await ChildProcess.run(["serve", "--data", directory] + flags)
            #expect(result.status != 0)
            #expect(result.stderr.contains(message), "\(result.stderr)")
        }
    }
}

/// A TCP connection to 127.0.0.1 over a raw socket.
final class RawConnection: Sendable {
    let descriptor: Int32

    init(port: Int, blocking: Bool) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.descriptor = descriptor
        guard descriptor >= 0 else { return }
        if !blocking { _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK) }
        var timeout = timeval(tv_sec: 15, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }

    func send(_ text: String) {
        _ = Array(text.utf8).withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Everything until the peer closes (or 15 s pass).
    func readAll() -> String {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            received += chunk[0..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// What one read returns.
    func readSome() -> String {
        var chunk = [UInt8](repeating: 0, count: 4096)
        let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        return count > 0 ? String(decoding: chunk[0..<count], as: UTF8.self) : ""
    }

    /// Whether the server closed it (a read without waiting sees the end of the stream).
    var isClosedByPeer: Bool {
        var byte: UInt8 = 0
        let count = recv(descriptor, &byte, 1, Int32(MSG_DONTWAIT))
        return count == 0 || (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    }

    func close() {
        if descriptor >= 0 { _ = Glibc.close(descriptor) }
    }
}
