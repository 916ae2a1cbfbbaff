public import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// One Server-Sent Event (`id`, `data`), or a comment line (`: heartbeat`).
public struct ServerSentEvent: Sendable, Equatable {
    public var id: String?
    public var data: String
    /// The text of a comment line; `nil` for an event.
    public var comment: String?
}

/// A client of an SSE stream (the live event feed), for `bench query` and the tests.
public enum ServerSentEventsClient {
    /// Follows `url` until `handle` returns `false` or the server ends the stream; returns the last
    /// event id seen.
    @discardableResult
    public static func follow(
        _ url: String,
        token: String,
        lastEventID: String? = nil,
        http: HTTPClient = .shared,
        _ handle: (ServerSentEvent) async throws -> Bool
    ) async throws -> String? {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Accept", value: "text/event-stream")
        if let lastEventID { request.headers.add(name: "Last-Event-ID", value: lastEventID) }
        let response = try await http.execute(request, timeout: .hours(24))
        guard response.status == .ok else {
            let body = try await response.body.collect(upTo: 1 << 20)
            throw SSEError(description: "HTTP \(response.status.code): \(String(buffer: body))")
        }
        var parser = Parser()
        for try await buffer in response.body {
            for event in parser.feed(buffer.readableBytesView) {
                if event.comment == nil, let id = event.id { parser.lastEventID = id }
                guard try await handle(event) else { return parser.lastEventID }
            }
        }
        return parser.lastEventID
    }

    /// Splits the stream into lines and events (the WHATWG event-stream format, without `event:`).
    struct Parser {
        var pending: [UInt8] = []
        var id: String?
        var data: [String] = []
        var lastEventID: String?

        mutating func feed(_ bytes: some Collection<UInt8>) -> [ServerSentEvent] {
            pending.append(contentsOf: bytes)
            var events: [ServerSentEvent] = []
            while let newline = pending.firstIndex(of: 0x0A) {
                var line = pending[..<newline]
                if line.last == 0x0D { line = line.dropLast() }
                let text = String(decoding: line, as: UTF8.self)
                pending.removeSubrange(...newline)
                if text.isEmpty {
                    if !data.isEmpty { events.append(ServerSentEvent(id: id, data: data.joined(separator: "\n"))) }
                    id = nil
                    data = []
                } else if text.hasPrefix(":") {
                    events.append(ServerSentEvent(id: nil, data: "", comment: String(text.dropFirst()).trimmed))
                } else {
                    let (field, value) = Self.field(text)
                    switch field {
                    case "id": id = value
                    case "data": data.append(value)
                    default: break
                    }
                }
            }
            return events
        }

        static func field(_ line: String) -> (String, String) {
            guard let colon = line.firstIndex(of: ":") else { return (line, "") }
            var value = line[line.index(after: colon)...]
            if value.first == " " { value = value.dropFirst() }
            return (String(line[..<colon]), String(value))
        }
    }

    public struct SSEError: Error, CustomStringConvertible {
        public var description: String
    }
}

extension String {
    fileprivate var trimmed: String { trimmingCharacters(in: .whitespaces) }
}
