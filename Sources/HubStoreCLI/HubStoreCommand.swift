import ArgumentParser

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `hubstore`: the conversation hub's server and tools.
@main
struct HubStoreCommand: AsyncParsableCommand {
    /// Every file hubstore creates (the database, its WAL, assets, the master key) is its user's
    /// alone: the umask is set before anything else runs.
    static func main() async {
        umask(0o077)
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "hubstore",
        abstract: "A self-hosted conversation hub backend on an event log in SQLite.",
        discussion: """
            Every flag of `serve` also reads an environment variable: HUBSTORE_ and the flag's name in \
            capitals, dashes as underscores (HUBSTORE_DATA, HUBSTORE_PORT, HUBSTORE_MAX_UPLOAD, \
            HUBSTORE_CORS_ORIGIN, ...; see `hubstore serve --help`); a flag wins over its variable, and the \
            variable over the default.
            """,
        version: "0.1.0",
        subcommands: [
            Serve.self, Demo.self, Clients.self, Token.self, Verify.self, Rebuild.self, Backup.self, Export.self,
            Import.self, Replay.self, Events.self, Analytics.self, Erase.self,
            Bench.self,
        ]
    )
}
