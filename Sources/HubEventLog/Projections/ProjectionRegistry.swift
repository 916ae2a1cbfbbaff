public import HubSQLite

/// The projections of a store, in the order they apply each event (a projection after those it reads).
///
/// The writer applies them inline: ``apply(_:_:)`` right after each append, in the same command (so
/// a command whose events a projection refuses appends nothing), and ``recordApplied(through:_:)``
/// once per batch, in the same transaction, so `projection_state` always names the log position the
/// tables stand at.
public struct ProjectionRegistry: Sendable {
    public let projections: [any Projection]
    /// Opens sealed content for the projections that show it.
    public let vault: (any SealedValueOpener)?

    /// - Precondition: names are unique and every dependency comes earlier in the list.
    public init(_ projections: [any Projection], vault: (any SealedValueOpener)?) {
        var seen: Set<String> = []
        for projection in projections {
            precondition(seen.insert(projection.name).inserted, "two projections are named \(projection.name)")
            for dependency in projection.dependencies {
                precondition(seen.contains(dependency), "\(projection.name) must come after \(dependency)")
            }
        }
        self.projections = projections
        self.vault = vault
    }

    /// No projections: a bare log (benchmarks and tests of the log alone).
    public static let none = ProjectionRegistry([], vault: nil)

    public var names: [String] { projections.map(\.name) }

    /// The names as a JSON array (projection names are plain identifiers).
    private var namesJSON: String { "[" + names.map { "\"\($0)\"" }.joined(separator: ",") + "]" }

    public func projection(named name: String) -> (any Projection)? {
        projections.first { $0.name == name }
    }

    /// The named projections with everything they depend on, in apply order.
    public func closure(of names: [String]) throws(ProjectionError) -> [any Projection] {
        var wanted: Set<String> = []
        func add(_ name: String) throws(ProjectionError) {
            guard let projection = projection(named: name) else { throw .unknownProjection(name) }
            guard wanted.insert(name).inserted else { return }
            for dependency in projection.dependencies { try add(dependency) }
        }
        for name in names { try add(name) }
        return projections.filter { wanted.contains($0.name) }
    }

    /// Applies one event, then each it implies, to every projection, in order.
    package func apply(_ event: RecordedEvent, _ context: ProjectionContext) throws {
        guard !projections.isEmpty else { return }
        for event in try event.withImpliedEvents() {
            for projection in projections { try projection.apply(event, context) }
        }
    }

    /// Lets every projection write what it held back (see ``Projection/settle(_:)``).
    package func settle(_ context: ProjectionContext) throws {
        for projection in projections { try projection.settle(context) }
    }

    /// Records that every projection has applied the log through `position` (in the batch's transaction).
    package func recordApplied(through position: Int64, _ connection: Connection) throws(SQLiteError) {
        guard !projections.isEmpty else { return }
        let statement = try connection.cachedStatement(
            sql: "UPDATE projection_state SET position = ?1 WHERE name IN (SELECT value FROM json_each(?2))"
        )
        defer { statement.reset() }
        try statement.bind(position, at: 1)
        try statement.bind(namesJSON, at: 2)
        try statement.execute()
    }

    /// The projections whose tables do not stand at the log's tip under their current version: never
    /// built (a data directory from before projections, a new projection), built by another version
    /// of their code, or behind the log (events appended by a writer that did not apply them).
    public func stale(tip: Int64, _ connection: Connection) throws(SQLiteError) -> [String] {
        var states: [String: (version: Int64, position: Int64)] = [:]
        let statement = try connection.prepare(sql: "SELECT name, version, position FROM projection_state")
        while try statement.step() {
            states[statement.text(at: 0)] = (statement.int64(at: 1), statement.int64(at: 2))
        }
        return projections.filter { projection in
            guard let state = states[projection.name] else { return true }
            return state.version != Int64(projection.version) || state.position != tip
        }.map(\.name)
    }
}
