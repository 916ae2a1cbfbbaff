import ArgumentParser
import Foundation
import HubCommands
import HubDomain
import HubEventLog
import HubReadModels
import HubSQLite
import HubVault

extension HubStoreCommand {
    struct Erase: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Erase a customer: destroy their keys and remove their plaintext, as POST /v1/erasures does.",
            discussion: """
                Finds the customers a contact address belongs to (at one account with --account), or one \
                customer by id, and erases them in one transaction beside a running server too: the \
                customer's key and the data keys of every message of their conversations are destroyed, \
                their plaintext leaves every read model and the search index, their assets are deleted, \
                and an erasure.performed event records ids, key records and positions (nothing of the \
                content). The WAL is then checkpointed and truncated with secure_delete on. The log keeps \
                every event and its chain still verifies; the conversations' counts stay in the metrics. \
                Needs the master key (master.key or HUBSTORE_MASTER_KEY).
                """
        )

        @OptionGroup var dataOptions: DataOptions

        @Option(help: "A contact address of the customer (e-mail, phone, …), as the customer gave it.")
        var contact: String?

        @Option(help: "The customer's hub id (the transcripts' customer.id).")
        var customer: String?

        @Option(help: "With --contact: only the customer at this account (its id).")
        var account: String?

        @Flag(help: "Print the result as JSON.")
        var json = false

        func validate() throws {
            switch (contact, customer) {
            case (nil, nil): throw ValidationError("give --contact or --customer")
            case (_?, _?): throw ValidationError("give --contact or --customer, not both")
            default: break
            }
            if account != nil, contact == nil { throw ValidationError("--account goes with --contact") }
        }

        func run() async throws {
            let path = try dataOptions.resolvedData()
            try await failingClearly {
                let directory = DataDirectory(path: path)
                guard FileManager.default.fileExists(atPath: directory.databasePath) else {
                    throw CLIFailure("no hub.sqlite in \(path): nobody to erase")
                }
                guard let key = try HubStoreCommand.Verify.existingMasterKey(directory) else {
                    throw CLIFailure("erasing needs the master key (master.key or HUBSTORE_MASTER_KEY)")
                }
                let store = try await EventStore.open(
                    EventStoreConfiguration(dataDirectory: path),
                    exclusive: false,
                    readModels: .hub
                )
                let subject: CustomerErasure.Subject =
                    if let contact { .contact(contact) } else { .customer(customer ?? "") }
                let account = account
                do {
                    let result = try await store.withWriter { store in
                        try await CustomerErasure(
                            store: store,
                            vault: SecretVault(masterKey: key),
                            contactKeys: ContactKeys(masterKey: key),
                            files: AssetFiles(dataDirectory: store.directory)
                        )
                        .erase(subject, account: account, caller: .init(actor: "operator", correlationId: nil))
                    }
                    await store.close()
                    let truncated = Self.truncateWAL(directory)
                    print(json ? result.json.text : Self.summary(result))
                    if !truncated {
                        FileHandle.standardError.write(
                            Data(
                                ("hubstore: warning: the WAL could not be truncated yet (a server's readers kept it); "
                                    + "the server's next checkpoint overwrites it\n").utf8
                            )
                        )
                    }
                } catch let rejection as Rejection {
                    await store.close()
                    throw CLIFailure(rejection.message)
                } catch {
                    await store.close()
                    throw error
                }
            }
        }

        /// Folds the WAL into `hub.sqlite` and truncates it, waiting up to 10 s for a server's readers:
        /// the writer tried once at once, and a server beside this process may have been reading.
        static func truncateWAL(_ directory: DataDirectory) -> Bool {
            guard let connection = try? Connection(path: directory.databasePath) else { return false }
            defer { connection.close() }
            return
                (try? connection.withBusyTimeout(.seconds(10)) {
                    let statement = try connection.prepare(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
                    return try statement.step() && statement.int64(at: 0) == 0
                }) ?? false
        }

        static func summary(_ result: CustomerErasure.Result) -> String {
            "erased \(result.customers.count) customer(s): \(result.conversations.count) conversation(s), "
                + "\(result.messages) message(s), \(result.keys) key(s) destroyed, \(result.assets) asset(s) "
                + "deleted; erasure.performed at position \(result.position) (id \(result.id))"
        }
    }
}
