import CHubSQLite
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// How often each SQL statement ran on a connection and how long SQLite took for it, from SQLite's
/// own profile callback (`sqlite3_trace_v2` with `SQLITE_TRACE_PROFILE`: from a statement's first
/// step to its last, in wall-clock time). `bench ingest --sql-profile` reads the writer's.
///
/// A diagnostic: each statement run costs a lock and a lookup more while a profile is attached.
///
/// Related SQLite documentation: <https://www.sqlite.org/c3ref/trace_v2.html>
public final class StatementProfile: Sendable {
    /// One statement's totals.
    public struct Entry: Sendable, Equatable {
        /// The statement's SQL, as prepared.
        public var sql: String
        public var runs: Int
        public var nanoseconds: Int64
    }

    private struct Slot {
        var sql: String
        var runs = 0
        var nanoseconds: Int64 = 0
    }

    /// By prepared statement (`sqlite3_stmt *`). A pointer can be reused for another statement once
    /// the first is finalized, so each slot keeps its SQL and a changed SQL opens a new slot.
    private let slots = Mutex<(current: [Int: Int], all: [Slot])>(([:], []))

    public init() {}

    /// The statements run so far, one entry per distinct SQL text, longest total first.
    public var entries: [Entry] {
        let all = slots.withLock { $0.all }
        var merged: [String: Entry] = [:]
        for slot in all {
            merged[slot.sql, default: Entry(sql: slot.sql, runs: 0, nanoseconds: 0)].runs += slot.runs
            merged[slot.sql]?.nanoseconds += slot.nanoseconds
        }
        return merged.values.sorted { ($0.nanoseconds, $1.sql) > ($1.nanoseconds, $0.sql) }
    }

    /// Forgets what was counted so far.
    public func reset() {
        slots.withLock { $0 = ([:], []) }
    }

    /// Counts one run of `statement`, which took `nanoseconds`.
    fileprivate func record(_ statement: OpaquePointer, nanoseconds: Int64) {
        let key = Int(bitPattern: UnsafeRawPointer(statement))
        let text = sqlite3_sql(statement)
        slots.withLock { slots in
            if let index = slots.current[key], Self.same(slots.all[index].sql, text) {
                slots.all[index].runs += 1
                slots.all[index].nanoseconds += nanoseconds
                return
            }
            slots.current[key] = slots.all.count
            slots.all.append(Slot(sql: text.map { String(cString: $0) } ?? "", runs: 1, nanoseconds: nanoseconds))
        }
    }

    /// Whether `sql` is the C string `text`, without making a `String` of it.
    private static func same(_ sql: String, _ text: UnsafePointer<CChar>?) -> Bool {
        guard let text else { return sql.isEmpty }
        var sql = sql
        return sql.withUTF8 { bytes in
            bytes.count == strlen(text) && (bytes.isEmpty || memcmp(bytes.baseAddress!, text, bytes.count) == 0)
        }
    }

    /// Starts counting `connection`'s statements; the connection keeps the profile alive.
    static func attach(_ profile: StatementProfile, to handle: OpaquePointer) {
        let context = Unmanaged.passUnretained(profile).toOpaque()
        sqlite3_trace_v2(
            handle,
            UInt32(SQLITE_TRACE_PROFILE),
            { _, context, statement, elapsed in
                guard let context, let statement, let elapsed else { return 0 }
                Unmanaged<StatementProfile>.fromOpaque(context).takeUnretainedValue().record(
                    OpaquePointer(statement),
                    nanoseconds: elapsed.assumingMemoryBound(to: Int64.self).pointee
                )
                return 0
            },
            context
        )
    }

    /// Stops counting (before the connection closes).
    static func detach(from handle: OpaquePointer) {
        sqlite3_trace_v2(handle, 0, nil, nil)
    }
}
