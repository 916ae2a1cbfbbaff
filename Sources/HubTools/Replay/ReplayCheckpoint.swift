import Foundation
public import HubDomain
import Synchronization

/// A replay's progress and id map, so that a replay killed and run again goes on where it stopped.
///
/// One JSON object per line, appended as things are created on the target, each line written with
/// one `write` (a killed process leaves at most its last line torn, which is ignored on reading):
/// - `{"source", "target"}` first: a checkpoint belongs to one source and one target;
/// - `{"kind", "from", "to"}`: a configuration resource and the id the target gave it;
/// - `{"asset", "to"}`: an uploaded asset;
/// - `{"conversation", "to", "sent"}`: a conversation's id on the target and how many of its
///   messages the target accepted.
///
/// What was sent but not yet recorded is sent again: messages carry their idempotency keys
/// (`messageId` per sender type), and a resource whose name the target already has is looked up.
public final class ReplayCheckpoint: Sendable {
    /// What the file says so far.
    public struct State: Sendable, Equatable {
        public var ids: [ResourceKind: [String: String]] = [:]
        public var assets: [String: String] = [:]
        /// By the source's conversation id.
        public var conversations: [String: Conversation] = [:]

        public struct Conversation: Sendable, Equatable {
            public var to: String
            /// How many of its messages the target accepted.
            public var sent: Int
        }

        public var isEmpty: Bool { ids.isEmpty && assets.isEmpty && conversations.isEmpty }

        public init() {}

        /// What the checkpoint at `path` records (empty when there is none), for a dry run.
        public static func read(_ path: String) throws -> State { try ReplayCheckpoint.read(path)?.state ?? State() }
    }

    public let path: String
    private let handle: Mutex<FileHandle>
    /// What was read at opening.
    public let initial: State

    /// Opens (or creates) the checkpoint of a replay from `source` to `target`; refuses another's.
    public init(path: String, source: String, target: String) throws {
        self.path = path
        var state = State()
        if let (from, to, read) = try Self.read(path) {
            guard from == source, to == target else {
                throw ReplayError(
                    "\(path) is the checkpoint of a replay from \(from) to \(to): give another --checkpoint"
                )
            }
            state = read
        } else {
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
            else { throw ReplayError("cannot create the checkpoint \(path)") }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw ReplayError("cannot open \(path)") }
        handle.seekToEndOfFile()
        self.handle = Mutex(handle)
        self.initial = state
        if handle.offsetInFile == 0 {
            try write(["source": .string(source), "target": .string(target)])
        }
    }

    /// The file's source, target and state; `nil` when there is no file or it is empty.
    static func read(_ path: String) throws -> (source: String, target: String, state: State)? {
        guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else { return nil }
        var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
        if data.last != UInt8(ascii: "\n"), !lines.isEmpty { lines.removeLast() }  // torn by a kill
        guard let header = lines.first.flatMap({ try? JSONValue.parse(bytes: $0) }),
            let source = header["source"]?.stringValue, let target = header["target"]?.stringValue
        else { throw ReplayError("\(path) is not a replay checkpoint") }
        var state = State()
        for line in lines.dropFirst() {
            guard let value = try? JSONValue.parse(bytes: line) else {
                throw ReplayError("\(path) has a damaged line: \(String(decoding: line, as: UTF8.self))")
            }
            apply(value, to: &state)
        }
        return (source, target, state)
    }

    deinit {
        handle.withLock { try? $0.close() }
    }

    private static func apply(_ value: JSONValue, to state: inout State) {
        if let kindName = value["kind"]?.stringValue, let kind = ResourceKind(rawValue: kindName),
            let from = value["from"]?.stringValue, let to = value["to"]?.stringValue
        {
            state.ids[kind, default: [:]][from] = to
        } else if let asset = value["asset"]?.stringValue, let to = value["to"]?.stringValue {
            state.assets[asset] = to
        } else if let conversation = value["conversation"]?.stringValue, let to = value["to"]?.stringValue,
            case .integer(let sent)? = value["sent"]
        {
            state.conversations[conversation] = .init(to: to, sent: Int(sent))
        }
    }

    public func recordResource(_ kind: ResourceKind, from: String, to: String) throws {
        try write(["kind": .string(kind.rawValue), "from": .string(from), "to": .string(to)])
    }

    public func recordAsset(from: String, to: String) throws {
        try write(["asset": .string(from), "to": .string(to)])
    }

    public func recordConversation(from: String, to: String, sent: Int) throws {
        try write(["conversation": .string(from), "to": .string(to), "sent": .integer(Int64(sent))])
    }

    private func write(_ fields: [String: JSONValue]) throws {
        let line = Data((JSONValue.object(fields).text + "\n").utf8)
        try handle.withLock { try $0.write(contentsOf: line) }
    }
}
