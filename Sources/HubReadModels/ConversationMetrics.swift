import Foundation
public import HubDomain
@_spi(Storage) public import HubEventLog
import HubSQLite

/// Conversation metrics (`GET /v1/analytics/conversations|agents`, `hubstore analytics`) from the
/// metrics projection's rollup: per hour, day or week of a range, over the accounts and channels a
/// filter selects. The README ("Conversation metrics") defines each metric.
public struct ConversationMetrics: Sendable {
    public let store: EventStore

    public init(store: EventStore) {
        self.store = store
    }

    public enum Interval: String, Sendable, CaseIterable {
        case hour, day, week

        /// The start of the interval holding `time` (milliseconds since 1970 UTC); weeks start on Monday.
        public func start(of time: Int64) -> Int64 {
            switch self {
            case .hour: return floor(time, MetricsProjection.hour)
            case .day: return floor(time, Self.dayLength)
            case .week: return floor(time - Self.monday, 7 * Self.dayLength) + Self.monday
            }
        }

        public func next(after start: Int64) -> Int64 {
            switch self {
            case .hour: start + MetricsProjection.hour
            case .day: start + Self.dayLength
            case .week: start + 7 * Self.dayLength
            }
        }

        static let dayLength: Int64 = 86_400_000
        /// 1970-01-05, a Monday.
        static let monday: Int64 = 4 * dayLength

        private func floor(_ time: Int64, _ unit: Int64) -> Int64 {
            let remainder = time % unit
            return time - (remainder < 0 ? remainder + unit : remainder)
        }
    }

    /// Which conversations count, and over which range of time (`since` inclusive, `until` exclusive;
    /// `since` is taken back to the start of its interval).
    public struct Filter: Sendable {
        public var account: String?
        public var channelType: String?
        public var since: Int64
        public var until: Int64

        public init(account: String? = nil, channelType: String? = nil, since: Int64, until: Int64) {
            self.account = account
            self.channelType = channelType
            self.since = since
            self.until = until
        }
    }

    /// p50 and p90 of a set of durations (milliseconds), by the nearest-rank method: the value at rank
    /// ⌈p × n⌉ of the n values in ascending order; `nil` without values.
    public struct Distribution: Sendable, Equatable {
        public var count: Int
        public var p50: Int64?
        public var p90: Int64?

        public init(_ values: [Int64]) {
            let sorted = values.sorted()
            count = sorted.count
            func rank(_ p: Double) -> Int64? {
                sorted.isEmpty ? nil : sorted[max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1)]
            }
            p50 = rank(0.5)
            p90 = rank(0.9)
        }

        var json: JSONValue {
            .object([
                "count": .integer(Int64(count)), "p50": p50.map { .double(Double($0) / 1000) } ?? .null,
                "p90": p90.map { .double(Double($0) / 1000) } ?? .null,
            ])
        }
    }

    /// The counts of one interval (or of the whole range), and its durations' distributions.
    public struct Bucket: Sendable, Equatable {
        public var start: Int64
        public var started: Int64 = 0
        public var ended: Int64 = 0
        public var escalated: Int64 = 0
        public var contained: Int64 = 0
        public var abandoned: Int64 = 0
        public var customerMessages: Int64 = 0
        public var botMessages: Int64 = 0
        public var agentMessages: Int64 = 0
        public var systemMessages: Int64 = 0
        public var deliveriesFailed: Int64 = 0
        public var firstResponse = Distribution([])
        public var timeToAgent = Distribution([])
        public var handleTime = Distribution([])

        public init(start: Int64) {
            self.start = start
        }

        /// Of the conversations that ended: how many without escalation, and how many abandoned.
        public var containmentRate: Double? { ended == 0 ? nil : Double(contained) / Double(ended) }
        public var abandonmentRate: Double? { ended == 0 ? nil : Double(abandoned) / Double(ended) }

        mutating func add(_ counts: [Int64]) {
            started += counts[0]
            ended += counts[1]
            escalated += counts[2]
            contained += counts[3]
            abandoned += counts[4]
            customerMessages += counts[5]
            botMessages += counts[6]
            agentMessages += counts[7]
            systemMessages += counts[8]
            deliveriesFailed += counts[9]
        }

        public var json: JSONValue {
            func rate(_ value: Double?) -> JSONValue {
                value.map { .double(($0 * 10_000).rounded() / 10_000) } ?? .null
            }
            return .object([
                "start": .string(Timestamp.format(start)),
                "conversations": .object([
                    "started": .integer(started), "ended": .integer(ended), "escalated": .integer(escalated),
                    "botContained": .integer(contained), "containmentRate": rate(containmentRate),
                    "abandoned": .integer(abandoned), "abandonmentRate": rate(abandonmentRate),
                ]),
                "messages": .object([
                    "customer": .integer(customerMessages), "bot": .integer(botMessages),
                    "agent": .integer(agentMessages), "system": .integer(systemMessages),
                ]),
                "deliveriesFailed": .integer(deliveriesFailed),
                "firstResponseSeconds": firstResponse.json,
                "timeToAgentSeconds": timeToAgent.json,
                "handleTimeSeconds": handleTime.json,
            ])
        }

        public static let csvHeader = [
            "start", "conversations_started", "conversations_ended", "escalated", "bot_contained", "containment_rate",
            "abandoned", "abandonment_rate", "customer_messages", "bot_messages", "agent_messages", "system_messages",
            "deliveries_failed", "first_response_p50_s", "first_response_p90_s", "time_to_agent_p50_s",
            "time_to_agent_p90_s", "handle_time_p50_s", "handle_time_p90_s",
        ]

        public var csvFields: [String] {
            func seconds(_ value: Int64?) -> String { value.map { CSV.number(Double($0) / 1000) } ?? "" }
            func rate(_ value: Double?) -> String { value.map { CSV.number(($0 * 10_000).rounded() / 10_000) } ?? "" }
            return [
                Timestamp.format(start), "\(started)", "\(ended)", "\(escalated)", "\(contained)",
                rate(containmentRate),
                "\(abandoned)", rate(abandonmentRate), "\(customerMessages)", "\(botMessages)", "\(agentMessages)",
                "\(systemMessages)", "\(deliveriesFailed)", seconds(firstResponse.p50), seconds(firstResponse.p90),
                seconds(timeToAgent.p50), seconds(timeToAgent.p90), seconds(handleTime.p50), seconds(handleTime.p90),
            ]
        }
    }

    public struct Report: Sendable {
        public var interval: Interval
        public var filter: Filter
        public var buckets: [Bucket]
        public var total: Bucket

        public var json: JSONValue {
            var fields: [String: JSONValue] = [
                "interval": .string(interval.rawValue), "since": .string(Timestamp.format(filter.since)),
                "until": .string(Timestamp.format(filter.until)), "buckets": .array(buckets.map(\.json)),
                "total": total.json,
            ]
            if let account = filter.account { fields["account"] = .string(account) }
            if let channel = filter.channelType { fields["channel"] = .string(channel) }
            return .object(fields)
        }

        public var csv: String { CSV.table(Bucket.csvHeader, buckets.map(\.csvFields)) }
    }

    /// The most intervals one report may have.
    public static let maxBuckets = 10_000

    /// The metrics of each interval from `filter.since` to `filter.until`, empty intervals included.
    public func conversations(_ filter: Filter, interval: Interval) async throws -> Report {
        var filter = filter
        filter.since = interval.start(of: filter.since)
        let range = filter
        return try await store.pool.read { connection in
            var buckets: [Int64: Bucket] = [:]
            var start = range.since
            while start < range.until {
                buckets[start] = Bucket(start: start)
                start = interval.next(after: start)
            }
            var total = Bucket(start: range.since)
            let (conditions, arguments) = Self.conditions(range)
            let counts = try connection.prepare(
                sql: """
                    SELECT hour, sum(started), sum(ended), sum(escalated), sum(contained), sum(abandoned),
                        sum(customer_messages), sum(bot_messages), sum(agent_messages), sum(system_messages),
                        sum(deliveries_failed)
                    FROM metrics_hourly WHERE hour >= ? AND hour < ?\(conditions) GROUP BY hour
                    """
            )
            try counts.bind([range.since, range.until] + arguments)
            while try counts.step() {
                let values = (1...10).map { counts.int64(at: $0) }
                buckets[interval.start(of: counts.int64(at: 0))]?.add(values)
                total.add(values)
            }
            var durations: [Int64: [[Int64]]] = [:]
            var all: [[Int64]] = [[], [], []]
            func record(_ metric: Int, at time: Int64, _ value: Int64) {
                durations[interval.start(of: time), default: [[], [], []]][metric].append(value)
                all[metric].append(value)
            }
            let started = try connection.prepare(
                sql: """
                    SELECT started_at, first_response_at - first_customer_at, first_agent_at - started_at
                    FROM metrics_conversations WHERE started_at >= ? AND started_at < ?\(conditions)
                    """
            )
            try started.bind([range.since, range.until] + arguments)
            while try started.step() {
                let time = started.int64(at: 0)
                if let response = started.optionalInt64(at: 1) { record(0, at: time, response) }
                if let toAgent = started.optionalInt64(at: 2) { record(1, at: time, toAgent) }
            }
            let ended = try connection.prepare(
                sql: """
                    SELECT ended_at, ended_at - started_at FROM metrics_conversations
                    WHERE ended_at >= ? AND ended_at < ?\(conditions)
                    """
            )
            try ended.bind([range.since, range.until] + arguments)
            while try ended.step() { record(2, at: ended.int64(at: 0), ended.int64(at: 1)) }
            for (start, values) in durations {
                buckets[start]?.firstResponse = Distribution(values[0])
                buckets[start]?.timeToAgent = Distribution(values[1])
                buckets[start]?.handleTime = Distribution(values[2])
            }
            total.firstResponse = Distribution(all[0])
            total.timeToAgent = Distribution(all[1])
            total.handleTime = Distribution(all[2])
            return Report(
                interval: interval,
                filter: range,
                buckets: buckets.values.sorted { $0.start < $1.start },
                total: total
            )
        }
    }

    /// One agent's conversations in a range: those in which the agent's first message falls.
    public struct AgentRow: Sendable, Equatable {
        public var agent: String
        public var name: String?
        public var conversations: Int64
        public var messages: Int64
        /// From the agent's first message to the conversation's end, for those that ended.
        public var handleTime: Distribution

        public var json: JSONValue {
            .object([
                "agent": .object(["id": .string(agent), "name": name.map(JSONValue.string) ?? .null]),
                "conversationsHandled": .integer(conversations), "messages": .integer(messages),
                "handleTimeSeconds": handleTime.json,
            ])
        }

        public static let csvHeader = [
            "agent", "name", "conversations_handled", "messages", "handle_time_p50_s", "handle_time_p90_s",
        ]

        public var csvFields: [String] {
            func seconds(_ value: Int64?) -> String { value.map { CSV.number(Double($0) / 1000) } ?? "" }
            return [
                agent, name ?? "", "\(conversations)", "\(messages)", seconds(handleTime.p50), seconds(handleTime.p90),
            ]
        }
    }

    /// Each agent that wrote in a conversation in the range, most conversations first.
    public func agents(_ filter: Filter) async throws -> [AgentRow] {
        try await store.pool.read { connection in
            let (conditions, arguments) = Self.conditions(filter, table: "c")
            let statement = try connection.prepare(
                sql: """
                    SELECT a.agent, a.name, a.messages, c.ended_at - a.first_at
                    FROM metrics_agents a JOIN metrics_conversations c ON c.conversation = a.conversation
                    WHERE a.first_at >= ? AND a.first_at < ?\(conditions)
                    """
            )
            try statement.bind([filter.since, filter.until] + arguments)
            var rows: [String: (name: String?, conversations: Int64, messages: Int64, handle: [Int64])] = [:]
            while try statement.step() {
                let agent = statement.text(at: 0)
                var row = rows[agent] ?? (nil, 0, 0, [])
                row.name = row.name ?? statement.optionalText(at: 1)
                row.conversations += 1
                row.messages += statement.int64(at: 2)
                if let handle = statement.optionalInt64(at: 3) { row.handle.append(max(0, handle)) }
                rows[agent] = row
            }
            return rows.map { agent, row in
                AgentRow(
                    agent: agent,
                    name: row.name,
                    conversations: row.conversations,
                    messages: row.messages,
                    handleTime: Distribution(row.handle)
                )
            }
            .sorted { ($0.conversations, $1.agent) > ($1.conversations, $0.agent) }
        }
    }

    private static func conditions(_ filter: Filter, table: String? = nil) -> (String, [any SQLiteBindable]) {
        let prefix = table.map { "\($0)." } ?? ""
        var text = ""
        var arguments: [any SQLiteBindable] = []
        if let account = filter.account {
            text += " AND \(prefix)account = ?"
            arguments.append(account)
        }
        if let channel = filter.channelType {
            text += " AND \(prefix)channel_type = ?"
            arguments.append(channel)
        }
        return (text, arguments)
    }
}

/// Comma-separated values (RFC 4180): a header line, then one line per row, CRLF-terminated.
public enum CSV {
    public static func table(_ header: [String], _ rows: [[String]]) -> String {
        ([header] + rows).map(line).joined()
    }

    /// One line: the fields, quoted where needed, comma-separated, CRLF-terminated.
    public static func line(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\r\n"
    }

    /// A field, quoted when it holds a comma, a quote or a line break.
    public static func field(_ value: String) -> String {
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A number without a trailing `.0`.
    public static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
