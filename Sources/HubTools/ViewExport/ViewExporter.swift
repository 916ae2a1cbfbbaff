import Foundation
import HubDomain
@_spi(Storage) import HubEventLog
import HubReadModels
import HubSQLite

/// `hubstore export --format csv|parquet`: the analysts' views (`analytics_conversations`,
/// `analytics_messages`) as one file each, read from one snapshot of a data directory a server may be
/// writing to. Filters: an account, and a time range (of a conversation's start, a message's creation).
public struct ViewExporter: Sendable {
    public enum Format: String, Sendable, CaseIterable {
        case csv, parquet
    }

    public var dataDirectory: String
    /// A new or empty directory.
    public var out: String
    public var format: Format
    public var account: String?
    /// RFC 3339 times, inclusive.
    public var since: String?
    public var until: String?

    public init(
        dataDirectory: String,
        out: String,
        format: Format,
        account: String? = nil,
        since: String? = nil,
        until: String? = nil
    ) {
        self.dataDirectory = dataDirectory
        self.out = out
        self.format = format
        self.account = account
        self.since = since
        self.until = until
    }

    /// The views, the time column each is filtered on, and the file each is written to.
    static let views: [(name: String, time: String)] = [
        ("analytics_conversations", "started"), ("analytics_messages", "created"),
    ]

    /// Rows written per view, in the order of ``views``.
    public func run() throws -> [(file: String, rows: Int)] {
        let source = DataDirectory(path: dataDirectory)
        guard FileManager.default.fileExists(atPath: source.databasePath) else {
            throw BundleError("no hub.sqlite in \(dataDirectory): not a HubStore data directory")
        }
        for time in [since, until] {
            if let time, Timestamp.milliseconds(time) == nil {
                throw BundleError("'\(time)' is not an RFC 3339 time (the views are filtered by time, not position)")
            }
        }
        let existed = FileManager.default.fileExists(atPath: out)
        try BundleFiles.prepareEmptyDirectory(out)
        do {
            let connection = try BundleFiles.openQueryOnly(source.databasePath)
            defer { connection.close() }
            try connection.execute(sql: "BEGIN DEFERRED")
            defer { connection.rollbackQuietly() }
            return try Self.views.map { view in
                let file = "\(view.name).\(format.rawValue)"
                let rows = try export(view.name, time: view.time, connection, to: out + "/" + file)
                return (file, rows)
            }
        } catch {
            // No half-written export stays behind.
            BundleFiles.removeOutput(out, existed: existed)
            throw error
        }
    }

    private func export(_ view: String, time: String, _ connection: Connection, to path: String) throws -> Int {
        var conditions: [String] = []
        var arguments: [any SQLiteBindable] = []
        // The views' times are RFC 3339 text of one width (UTC, milliseconds): they compare as text.
        if let account {
            conditions.append("account = ?")
            arguments.append(account)
        }
        if let since = since.flatMap(Timestamp.milliseconds) {
            conditions.append("\(time) >= ?")
            arguments.append(Timestamp.format(since))
        }
        if let until = until.flatMap(Timestamp.milliseconds) {
            conditions.append("\(time) <= ?")
            arguments.append(Timestamp.format(until))
        }
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let statement = try connection.prepare(sql: "SELECT * FROM \(view)\(filter)")
        try statement.bind(arguments)
        let columns = (0..<statement.columnCount).map { statement.columnName(at: $0) }
        switch format {
        case .csv:
            let writer = try BundleFiles.Writer(path: path)
            try writer.write(Array(CSV.line(columns).utf8))
            var rows = 0
            while try statement.step() {
                let fields = (0..<columns.count).map { statement.isNull(at: $0) ? "" : statement.text(at: $0) }
                try writer.write(Array(CSV.line(fields).utf8))
                rows += 1
            }
            _ = try writer.close()
            return rows
        case .parquet:
            var table = ParquetTable(
                columns: columns,
                declaredTypes: (0..<columns.count).map { statement.columnDeclaredType(at: $0) }
            )
            while try statement.step() {
                table.append(
                    (0..<columns.count).map { column -> ParquetTable.Value in
                        switch statement.columnType(at: column) {
                        case .null: .null
                        case .integer: .integer(statement.int64(at: column))
                        case .float: .double(statement.double(at: column))
                        case .text, .blob: .text(statement.text(at: column))
                        }
                    }
                )
            }
            try BundleFiles.write(try table.file(), to: path, mode: 0o644)
            return table.rowCount
        }
    }
}
