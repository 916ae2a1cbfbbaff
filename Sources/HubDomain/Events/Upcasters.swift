/// A pure function that turns one event type's data at one schema version into the data of the next
/// version (DESIGN.md §3: readers upcast old versions on read).
package typealias Upcast = @Sendable (JSONValue) throws -> JSONValue

/// The upcasters a catalogue reads with, keyed by event type and the version they upcast from.
///
/// Data at version `v` of a type whose current version is `c` goes through the steps from `v`, `v + 1`,
/// …, `c - 1` in turn; a missing step is an error, never a guess. Register a step when a type's schema
/// changes, with a stored fixture of the old version that the tests decode.
///
/// ```swift
/// var upcasters = Upcasters.standard
/// upcasters.register("asset.deleted", from: 1) { data in … }
/// let catalogue = EventCatalogue(upcasters: upcasters)
/// ```
package struct Upcasters: Sendable {
    private struct Key: Hashable {
        var type: String
        var fromVersion: Int
    }

    private var steps: [Key: Upcast] = [:]

    /// No steps.
    package init() {}

    /// The hub's own upcasters: none yet, every event type is at schema version 1.
    package static let standard = Upcasters()
        // Version 1 of `message.originated` did not record the callback's attributes.
        .registering("message.originated", from: 1) { data in
            guard case .object(var fields) = data else { return data }
            fields["attributesUnrecorded"] = .bool(true)
            return .object(fields)
        }
        // Version 2 of `message.routed` names its configuration by generation instead of carrying it;
        // version 1's whole configuration still reads as it is.
        .registering("message.routed", from: 1) { $0 }

    /// Adds (or replaces) the step that takes `type` from `version` to `version + 1`.
    package mutating func register(_ type: String, from version: Int, _ step: @escaping Upcast) {
        steps[Key(type: type, fromVersion: version)] = step
    }

    /// A copy with one more step.
    package func registering(_ type: String, from version: Int, _ step: @escaping Upcast) -> Upcasters {
        var copy = self
        copy.register(type, from: version, step)
        return copy
    }

    /// Whether a step takes `type` from `version`.
    package func contains(_ type: String, from version: Int) -> Bool {
        steps[Key(type: type, fromVersion: version)] != nil
    }

    /// `data` of `type` at `version` as the data of version `current`.
    ///
    /// - Throws: ``EventCatalogueError/missingUpcaster(type:fromVersion:)`` when a step is missing,
    ///   ``EventCatalogueError/newerSchemaVersion(type:schemaVersion:current:)`` when `version` is past
    ///   `current`, and whatever a step throws.
    package func upcast(_ data: JSONValue, type: String, from version: Int, to current: Int) throws -> JSONValue {
        guard version <= current else {
            throw EventCatalogueError.newerSchemaVersion(type: type, schemaVersion: version, current: current)
        }
        var data = data
        for step in version..<current {
            guard let upcast = steps[Key(type: type, fromVersion: step)] else {
                throw EventCatalogueError.missingUpcaster(type: type, fromVersion: step)
            }
            data = try upcast(data)
        }
        return data
    }
}
