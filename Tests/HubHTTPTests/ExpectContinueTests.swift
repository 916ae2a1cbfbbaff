import Foundation
import HubTestSupport
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// A raw TCP connection to a live server: what is sent is sent byte for byte, what arrives is kept.
final class RawConnection: Sendable {
    final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received = Mutex("")

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            received.withLock { $0 += String(buffer: buffer) }
        }
    }

    let channel: any Channel
    let collector: Collector

    init(port: Int) async throws {
        let collector = Collector()
        channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        self.collector = collector
    }

    var received: String { collector.received.withLock { $0 } }

    func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text)).get()
    }

    /// Waits until what arrived satisfies `condition`, at most `timeout`; returns what arrived.
    func waitFor(_ timeout: Duration = .seconds(3), _ condition: (String) -> Bool) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while !condition(received), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        return received
    }

    func close() async { try? await channel.close() }
}

/// Issue 13 item 14: `Expect: 100-continue` gets `100 Continue` at once, so curl does not wait ~1 s.
struct ExpectContinueTests {
    static let body = "grant_type=client_credentials"

    static func post(expect: Bool) -> String {
        "POST /oauth2/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            + "Content-Length: \(body.utf8.count)\r\n" + (expect ? "Expect: 100-continue\r\n" : "") + "\r\n"
    }

    static let interim = "HTTP/1.1 100 Continue\r\n"

    @Test(.timeLimit(.minutes(5))) func aRequestThatExpectsContinueGetsItBeforeSendingItsBody() async throws {
        try await withTemporaryDirectory { directory in
            try await withHub(directory) { _, _, app in
                try await app.test(.live) { client in
                    let connection = try await RawConnection(port: try #require(client.port))
                    // The head alone: the server asks for the body.
                    try await connection.send(Self.post(expect: true))
                    let asked = try await connection.waitFor { $0.contains(Self.interim) }
                    #expect(asked.hasPrefix(Self.interim), "\(asked)")
                    try await connection.send(Self.body)
                    let answered = try await connection.waitFor { $0.contains("HTTP/1.1 401") }
                    #expect(answered.contains("invalid_client"), "\(answered)")
                    // The same connection, again: one interim response per request that asks.
                    let before = connection.received.count
                    try await connection.send(Self.post(expect: true))
                    let again = try await connection.waitFor { $0.dropFirst(before).contains(Self.interim) }
                    #expect(again.dropFirst(before).hasPrefix(Self.interim))
                    try await connection.send(Self.body)
                    _ = try await connection.waitFor { $0.components(separatedBy: "HTTP/1.1 401").count == 3 }
                    // Without the header, no interim response.
                    let third = connection.received.count
                    try await connection.send(Self.post(expect: false) + Self.body)
                    let plain = try await connection.waitFor { $0.components(separatedBy: "HTTP/1.1 401").count == 4 }
                    #expect(plain.components(separatedBy: "HTTP/1.1 401").count == 4)
                    #expect(!plain.dropFirst(third).contains("100 Continue"))
                    await connection.close()
                }
            }
        }
    }

    @Test(.timeLimit(.minutes(5))) func aPipelinedRequestsContinueWaitsForTheResponseBeforeIt() async throws {
        try await withTemporaryDirectory { directory in
            try await withHub(directory) { _, _, app in
                try await app.test(.live) { client in
                    let connection = try await RawConnection(port: try #require(client.port))
                    try await connection.send(
                        "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n" + Self.post(expect: true)
                    )
                    let text = try await connection.waitFor { $0.contains(Self.interim) }
                    let health = try #require(text.range(of: #"{"status":"ok"}"#))
                    let interim = try #require(text.range(of: Self.interim))
                    #expect(text.hasPrefix("HTTP/1.1 200"))
                    #expect(health.upperBound <= interim.lowerBound, "\(text)")
                    try await connection.send(Self.body)
                    let answered = try await connection.waitFor { $0.contains("HTTP/1.1 401") }
                    #expect(answered.contains("HTTP/1.1 401"))
                    await connection.close()
                }
            }
        }
    }
}
