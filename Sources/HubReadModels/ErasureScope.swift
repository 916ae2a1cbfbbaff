@_spi(Storage) package import HubEventLog
import HubSQLite

/// What erasing customers covers, read from the transcripts, the assets and the log inside the writer's
/// transaction: the customers a contact key finds, their conversations, those conversations' messages
/// and events, and their assets (with the files no other asset shares).
package struct ErasureScope: Sendable {
    package var customers: [String] = []
    package var conversations: [String] = []
    package var messages: [String] = []
    package var positions: [Int64] = []
    package var assets: [String] = []
    /// The SHA-256 names of asset files only these assets use.
    package var assetFiles: [String] = []
    /// The vault records (and streams) of the LivePerson consumers these conversations are with:
    /// `consumer/<account>/<lp_consumer_id>`, whose profiles are sealed under them.
    package var consumers: [String] = []

    /// The customers whose contacts hash to `contactKey` (at `account`, or at every account).
    package static func customers(
        contactKey: String,
        account: String?,
        in transaction: LogTransaction
    ) throws -> [String] {
        try strings(
            "SELECT DISTINCT customer FROM customer_contacts WHERE contact_key = ?"
                + (account == nil ? "" : " AND account = ?") + " ORDER BY customer",
            [contactKey] + (account.map { [$0] } ?? []),
            transaction.connection
        )
    }

    /// Whether a conversation has this customer.
    package static func isCustomer(_ id: String, in transaction: LogTransaction) throws -> Bool {
        try transaction.connection.singleInt64(sql: "SELECT 1 FROM conversations WHERE customer = ? LIMIT 1", [id])
            != nil
    }

    /// Everything of `customers`.
    package static func of(customers: [String], in transaction: LogTransaction) throws -> ErasureScope {
        let connection = transaction.connection
        var scope = ErasureScope(customers: customers)
        for customer in customers {
            scope.conversations += try strings(
                "SELECT id FROM conversations WHERE customer = ? ORDER BY started_at, id",
                [customer],
                connection
            )
        }
        for conversation in scope.conversations {
            scope.messages += try strings(
                "SELECT id FROM messages WHERE \(ConversationProjection.ofConversation()) ORDER BY seq",
                [conversation],
                connection
            )
            let positions = try connection.prepare(sql: "SELECT position FROM events WHERE stream = ?")
            try positions.bind(["conversation/\(conversation)"])
            while try positions.step() { scope.positions.append(positions.int64(at: 0)) }
            let assets = try connection.prepare(
                sql: "SELECT id, sha256 FROM assets WHERE conversation = ? AND state <> 'deleted' ORDER BY id"
            )
            try assets.bind([conversation])
            while try assets.step() {
                scope.assets.append(assets.text(at: 0))
                if let sha256 = assets.optionalText(at: 1) { scope.assetFiles.append(sha256) }
            }
        }
        var consumers: Set<String> = []
        for conversation in scope.conversations {
            let record = try connection.singleText(
                sql:
                    "SELECT 'consumer/' || account || '/' || consumer FROM connector_conversations WHERE conversation = ?",
                [conversation]
            )
            if let record { consumers.insert(record) }
        }
        scope.consumers = consumers.sorted()
        for stream in scope.consumers {
            let positions = try connection.prepare(sql: "SELECT position FROM events WHERE stream = ?")
            try positions.bind([stream])
            while try positions.step() { scope.positions.append(positions.int64(at: 0)) }
        }
        scope.positions.sort()
        // A file stays while an asset not erased here (another conversation's) has the same bytes.
        let erased = Set(scope.assets)
        scope.assetFiles = try Set(scope.assetFiles).sorted().filter { sha256 in
            try strings("SELECT id FROM assets WHERE sha256 = ? AND state <> 'deleted'", [sha256], connection)
                .allSatisfy(erased.contains)
        }
        return scope
    }

    private static func strings(_ sql: String, _ arguments: [String], _ connection: Connection) throws -> [String] {
        let statement = try connection.prepare(sql: sql)
        try statement.bind(arguments)
        var values: [String] = []
        while try statement.step() { values.append(statement.text(at: 0)) }
        return values
    }
}
