import Foundation
import HubDomain
import HubSQLite

/// Reads the log ahead of a rebuild, on a thread of its own with its own read connection: each chunk
/// of events comes decoded (typed payloads), with the sealed values the projections will open already
/// opened. That work — JSON and AES-GCM — then runs beside the rebuild's writes instead of between them.
///
/// What the feed prepares is only a head start: a value it could not open (a shredded key, a damaged
/// event) is left to the projection, which opens it again and reports what is wrong, as it would
/// without the feed. Events are immutable and keys are only ever destroyed, so a value opened here is
/// the one the projection would open.
final class PreparedEventFeed: Sendable {
    /// Events in log order, with what the feed opened for them, by sealed text.
    struct Chunk: Sendable {
        var events: [RecordedEvent]
        var opened: [(sealed: String, value: JSONValue)]
    }

    private let producer: ProducerThread<Chunk>

    /// Starts reading the `events` of the database at `path`, after `position` and through `last`,
    /// `chunk` events at a time; with `checkpoints`, it also checkpoints the WAL between chunks.
    init(
        path: String,
        after position: Int64,
        through last: Int64 = .max,
        chunk: Int,
        checkpoints: Bool = false,
        projections: [any Projection],
        vault: (any SealedValueOpener)?
    ) {
        producer = ProducerThread(name: "hubstore-feed", capacity: 3) { send in
            try Self.read(
                path: path,
                after: position,
                through: last,
                chunk: chunk,
                checkpoints: checkpoints,
                projections,
                vault,
                send
            )
        }
    }

    /// The next chunk; `nil` once the feed has reached the end of the log (as it stood when read).
    func next() throws -> Chunk? {
        try producer.next()
    }

    /// Takes back a chunk that was applied: freeing thousands of events' strings and payloads is work
    /// the feed's thread does, beside the rebuild rather than on its thread.
    func recycle(_ chunk: consuming Chunk) {
        producer.recycle(chunk)
    }

    /// Stops the reader (it finishes the chunk in hand and exits); call it when the rebuild ends.
    func stop() {
        producer.cancel()
    }

    private static func read(
        path: String,
        after start: Int64,
        through last: Int64,
        chunk: Int,
        checkpoints: Bool,
        _ projections: [any Projection],
        _ vault: (any SealedValueOpener)?,
        _ send: (Chunk) -> Bool
    ) throws {
        // Read-write without create (a read-only open of a WAL database fails without its -shm), but
        // query-only: the feed never writes.
        let connection = try Connection(path: path, configuration: .init(mode: .readWrite(create: false)))
        defer { connection.close() }
        try connection.execute(sql: "PRAGMA query_only = ON")
        let statement = try connection.prepare(
            sql: "SELECT \(EventLog.columns) FROM events WHERE position > ? AND position <= ? ORDER BY position LIMIT ?"
        )
        var position = start
        while true {
            var events: [RecordedEvent] = []
            events.reserveCapacity(chunk)
            try statement.bind([position, last, chunk])
            while try statement.step() { events.append(EventLog.decode(statement)) }
            statement.reset()
            var opened: [(sealed: String, value: JSONValue)] = []
            for index in events.indices {
                let event = events[index]
                events[index].typedPayload = try? event.decodedPayload()
                guard let vault else { continue }
                // Several projections name the same value (a message's content): it is opened once.
                var seen: [String] = []
                for projection in projections {
                    for reference in projection.sealedValues(in: events[index]) where !seen.contains(reference.sealed) {
                        seen.append(reference.sealed)
                        guard let text = try? vault.openIfKept(reference.sealed, record: reference.record, connection),
                            let value = try? JSONValue.parse(text)
                        else { continue }
                        opened.append((reference.sealed, value))
                    }
                }
            }
            if let tail = events.last { position = tail.position }
            let count = events.count
            guard send(Chunk(events: events, opened: opened)) else { return }
            if count < chunk { return }
            if checkpoints {
                // What the rebuild committed so far goes from the WAL into the database here, on this
                // thread, instead of in the rebuild's commits (its automatic checkpoints are off). Passive:
                // it waits for no one, and a busy WAL is simply copied at the next chunk.
                try? connection.execute(sql: "PRAGMA wal_checkpoint(PASSIVE)")
            }
        }
    }
}
