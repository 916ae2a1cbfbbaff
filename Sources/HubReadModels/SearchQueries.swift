public import HubDomain
@_spi(Storage) public import HubEventLog
import HubSQLite

/// Full-text search over what clients wrote (`GET /v1/search`), on the search projection's FTS5 index
/// and the transcripts' conversations: matching conversations best first (by the BM25 rank of their
/// best message), each with that message's snippet, the matched words marked.
public struct SearchQueries: Sendable {
    public let store: EventStore

    public init(store: EventStore) {
        self.store = store
    }

    public struct Filter: Sendable {
        public var account: String?
        public var channelType: String?
        /// The sender type of the matching message.
        public var sender: String?
        /// Matching messages written from / up to (milliseconds since 1970).
        public var since: Int64?
        public var until: Int64?
        public var state: String?
        public var escalated: Bool?

        public init(
            account: String? = nil,
            channelType: String? = nil,
            sender: String? = nil,
            since: Int64? = nil,
            until: Int64? = nil,
            state: String? = nil,
            escalated: Bool? = nil
        ) {
            self.account = account
            self.channelType = channelType
            self.sender = sender
            self.since = since
            self.until = until
            self.state = state
            self.escalated = escalated
        }
    }

    /// A query FTS5 cannot parse, with its reason (`fts5: syntax error near "("`).
    public struct SyntaxError: Error, Sendable {
        public var reason: String
    }

    public static let markStart = "<mark>"
    public static let markEnd = "</mark>"

    /// Matching conversations from `offset`, at most `limit`, and whether there are more.
    public func search(
        _ query: String,
        _ filter: Filter,
        offset: Int,
        limit: Int
    ) async throws -> (hits: [JSONValue], more: Bool) {
        try await store.pool.read { connection in
            var conditions = ["s.hidden = 0"]
            var arguments: [any SQLiteBindable] = [query]
            func add(_ condition: String, _ value: (any SQLiteBindable)?) {
                guard let value else { return }
                conditions.append(condition)
                arguments.append(value)
            }
            add("c.account = ?", filter.account)
            add("c.channel_type = ?", filter.channelType)
            add("s.sender_type = ?", filter.sender)
            add("s.created_at >= ?", filter.since)
            add("s.created_at <= ?", filter.until)
            add("c.state = ?", filter.state)
            add("c.escalated = ?", filter.escalated.map { Int64($0 ? 1 : 0) })
            arguments.append(Int64(limit + 1))
            arguments.append(Int64(offset))
            let statement = try connection.prepare(
                sql: """
                    WITH hits AS MATERIALIZED (
                        SELECT rowid AS row, bm25(message_text) AS rank FROM message_text WHERE message_text MATCH ?
                    )
                    SELECT s.conversation, min(h.rank) AS best, s.row, s.message, s.sender_type, s.created_at,
                        c.account, c.channel_type, c.state, c.escalated, c.started_at, count(*)
                    FROM hits h JOIN search_messages s ON s.row = h.row JOIN conversations c ON c.id = s.conversation
                    WHERE \(conditions.joined(separator: " AND "))
                    GROUP BY s.conversation ORDER BY best, s.conversation LIMIT ? OFFSET ?
                    """
            )
            try statement.bind(arguments)
            var rows: [(row: Int64, json: [String: JSONValue])] = []
            while try Self.matching({ try statement.step() }) {
                rows.append(
                    (
                        statement.int64(at: 2),
                        [
                            "conversation": .object([
                                "id": .string(statement.text(at: 0)),
                                "account": .object(["id": .string(statement.text(at: 6))]),
                                "channel": .object(["type": .string(statement.text(at: 7))]),
                                "state": .string(statement.text(at: 8)),
                                "escalated": .bool(statement.int64(at: 9) != 0),
                                "started": .string(Timestamp.format(statement.int64(at: 10))),
                            ]),
                            "message": .object([
                                "id": .string(statement.text(at: 3)),
                                "sender": .object(["type": .string(statement.text(at: 4))]),
                                "created": .string(Timestamp.format(statement.int64(at: 5))),
                            ]),
                            "matchingMessages": .integer(statement.int64(at: 11)),
                            "score": .double(-statement.double(at: 1)),
                        ]
                    )
                )
            }
            let more = rows.count > limit
            let snippet = try connection.prepare(
                sql: """
                    SELECT snippet(message_text, 0, ?, ?, '…', 16) FROM message_text
                    WHERE message_text MATCH ? AND rowid = ?
                    """
            )
            var hits: [JSONValue] = []
            for (row, var json) in rows.prefix(limit) {
                snippet.reset()
                try snippet.bind([Self.markStart, Self.markEnd, query, row])
                if try snippet.step() { json["snippet"] = .string(snippet.text(at: 0)) }
                hits.append(.object(json))
            }
            return (hits, more)
        }
    }

    /// Runs `body` (a step of the query), turning FTS5's complaints about the query into a ``SyntaxError``:
    /// its syntax, or a `column:` filter naming no column.
    private static func matching<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as SQLiteError
            where error.message.hasPrefix("fts5:") || error.message.contains("no such column")
        {
            throw SyntaxError(reason: error.message)
        }
    }
}
