public import HubDomain
public import HubSQLite
import HubVault

/// Reading `config_resources` (``ConfigurationProjection`` writes it): a resource's current state.
package enum ConfigurationRows {
    package struct Row {
        package var state: JSONValue
        package var createdAt: Int64
        package var modifiedAt: Int64
    }

    package static func row(_ kind: ResourceKind, id: String, _ connection: Connection) throws -> Row? {
        let statement = try connection.cachedStatement(
            sql: "SELECT state, created_at, modified_at FROM config_resources WHERE kind = ? AND id = ?"
        )
        defer { statement.reset() }
        try statement.bind([kind.rawValue, id])
        guard try statement.step() else { return nil }
        return Row(
            state: try parse(statement.text(at: 0)),
            createdAt: statement.int64(at: 1),
            modifiedAt: statement.int64(at: 2)
        )
    }

    package static func masked(_ kind: ResourceKind, _ state: JSONValue) -> JSONValue {
        state.mappingStrings(at: kind.schema.secretPaths) { _, _ in .string(SecretVault.mask) }
    }

    package static func parse(_ text: String) throws -> JSONValue {
        try JSONValue.parse(text)
    }
}
