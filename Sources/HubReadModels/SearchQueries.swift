public import HubDomain
@_spi(Storage) public import HubEventLog
import HubSQLite

/// Full-text search over what clients wrote (`GET /v1/search`), on the search projection's FTS5 index
/// and the transcripts' messages (by rowid) and conversations: matching conversations best first (by the BM25 rank of their
/// best message), each with that message's snippet, the matched words marked.
public struct SearchQueries: Sendable {
    public let store: EventStore
    /// The most matching messages ranked (``defaultRankedWindow``; tests make it small).
    public let rankedWindow: Int

    public init(store: EventStore, rankedWindow: Int = Self.defaultRankedWindow) {
        self.store = store
        self.rankedWindow = rankedWindow
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

    /// The most matching messages a search ranks: the newest that many (README "Search").
    public static let defaultRankedWindow = 4096

    /// How results are ordered: by BM25 (fewer than the window's messages matched), or, when at least
    /// that many did, the newest that many by recency (the newest match first).
    public enum Ranking: String, Sendable {
        case relevance, recency
    }

    public static let markStart = "<mark>"
    public static let markEnd = "</mark>"

    /// Matching conversations from `offset`, at most `limit`, and whether there are more.
    public func search(
        _ query: String,
        _ filter: Filter,
        offset: Int,
        limit: Int
    ) async throws -> (hits: [JSONValue], more: Bool, ranking: Ranking) {
        try await store.pool.read { connection in
            // Each filter compares a column with a parameter: anonymous in the first query, numbered
            // from ?6 in the second (after its own five).
            var comparisons: [String] = []
            var filters: [any SQLiteBindable] = []
            func add(_ comparison: String, _ value: (any SQLiteBindable)?) {
                guard let value else { return }
                comparisons.append(comparison)
                filters.append(value)
            }
            add("c.account =", filter.account)
            add("c.channel_type =", filter.channelType)
            add("m.sender_type =", filter.sender)
            add("m.created_at >=", filter.since)
            add("m.created_at <=", filter.until)
            add("c.state =", filter.state)
            add("c.escalated =", filter.escalated.map { Int64($0 ? 1 : 0) })
            func conditions(numberedFrom first: Int?) -> String {
                (["m.hidden = 0"]
                    + comparisons.enumerated().map { index, comparison in
                        comparison + (first.map { " ?\($0 + index)" } ?? " ?")
                    }).joined(separator: " AND ")
            }
            let matching = conditions(numberedFrom: nil)
            // Every message has its conversation: the hits join `conversations` only to filter by it.
            let conversationJoin =
                comparisons.contains { $0.hasPrefix("c.") } ? "JOIN conversations c ON c.number = m.conversation" : ""
            // The newest `rankedWindow` matching messages (those that pass the filters), newest first.
            let window = try connection.prepare(
                sql: """
                    SELECT t.rowid FROM message_text t JOIN messages m ON m.rowid = t.rowid \(conversationJoin)
                    WHERE message_text MATCH ? AND \(matching) ORDER BY t.rowid DESC LIMIT ?
                    """
            )
            try window.bind([query] + filters + [Int64(rankedWindow)])
            var newest: [Int64] = []
            while try Self.matching({ try window.step() }) { newest.append(window.int64(at: 0)) }
            guard let oldest = newest.last else { return ([], false, .relevance) }
            // BM25 first counts every message each phrase matches (its IDF): for words most messages
            // hold, that alone is tens of milliseconds. A full window is ordered by recency instead, from
            // the rows just read, without evaluating the query again.
            let ranking: Ranking = newest.count < rankedWindow ? .relevance : .recency
            let ranked =
                ranking == .relevance
                ? """
                SELECT t.rowid AS row, bm25(message_text) AS rank FROM message_text t
                    JOIN messages m ON m.rowid = t.rowid \(conversationJoin)
                WHERE message_text MATCH ?1 AND t.rowid >= ?2 AND \(conditions(numberedFrom: 6))
                """
                : "SELECT value AS row, -value AS rank FROM json_each(?3)"
            let statement = try connection.prepare(
                sql: """
                    WITH hits AS MATERIALIZED (\(ranked)),
                    -- Each conversation's best hit (the bare columns come from its row), then the
                    -- conversation's own columns once per conversation rather than once per hit.
                    best AS (
                        SELECT m.conversation AS number, min(h.rank) AS best, m.rowid AS row, m.id,
                            m.sender_type, m.created_at, count(*) AS matching
                        FROM hits h JOIN messages m ON m.rowid = h.row GROUP BY m.conversation
                    )
                    SELECT c.id, b.best, b.row, b.id, b.sender_type, b.created_at,
                        c.account, c.channel_type, c.state, c.escalated, c.started_at, b.matching
                    FROM best b JOIN conversations c ON c.number = b.number
                    ORDER BY b.best, c.id LIMIT ?4 OFFSET ?5
                    """
            )
            // Numbered parameters: the filters' come after these five, and only ranking by relevance
            // reads them (the rows of a full window passed them already).
            let newestRows = JSONValue.array(newest.map(JSONValue.integer)).text
            try statement.bind(
                [query, oldest, newestRows, Int64(limit + 1), Int64(offset)] + (ranking == .relevance ? filters : [])
            )
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
                            "score": ranking == .relevance ? .double(-statement.double(at: 1)) : .null,
                        ]
                    )
                )
            }
            let more = rows.count > limit
            let shown = rows.prefix(limit)
            // All the snippets in one pass over the ranked range: the query (a prefix's expansion above
            // all) is evaluated once, not once a snippet.
            let snippet = try connection.prepare(
                sql: """
                    SELECT rowid, snippet(message_text, 0, ?, ?, '…', 16) FROM message_text
                    WHERE message_text MATCH ? AND rowid >= ? AND +rowid IN (SELECT value FROM json_each(?))
                    """
            )
            let wanted = JSONValue.array(shown.map { .integer($0.row) }).text
            try snippet.bind([Self.markStart, Self.markEnd, query, shown.map(\.row).min() ?? 0, wanted])
            var snippets: [Int64: String] = [:]
            while try snippet.step() { snippets[snippet.int64(at: 0)] = snippet.text(at: 1) }
            let hits: [JSONValue] = shown.map { row, json in
                var json = json
                if let text = snippets[row] { json["snippet"] = .string(text) }
                return .object(json)
            }
            return (hits, more, ranking)
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
