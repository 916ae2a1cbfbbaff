import ArgumentParser
import HubCommands
import HubEventLog
import HubHTTP
import HubReadModels
import HubVault

extension HubStoreCommand {
    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a bearer token that the server on this data directory accepts (for operators).",
            discussion: """
                Signed with the data directory's master key; no server needs to run. Prints the token \
                alone on one line, so `TOKEN=$(hubstore token --scope hubstore.admin)` works in scripts.
                """
        )

        @OptionGroup var dataOptions: DataOptions

        @Option(help: "Space-separated scopes (see `hubstore clients create --help`).")
        var scope: String

        @Option(help: "Lifetime in seconds (at most 315360000, ten years).")
        var lifetime = 3600

        func validate() throws {
            // Bounded: the expiry is now + lifetime, which must not overflow.
            guard (1...315_360_000).contains(lifetime) else {
                throw ValidationError("--lifetime must be 1 to 315360000 seconds")
            }
        }

        func run() async throws {
            let scopes = try parseScopes(scope)
            let token = try await failingClearly {
                let directory = DataDirectory(path: try dataOptions.resolvedData())
                try directory.prepare()
                let tokens = TokenService(masterKey: try MasterKey.load(directory: directory))
                return tokens.issue(subject: TokenService.operatorSubject, scopes: scopes, lifetime: .seconds(lifetime))
            }
            print(token)
        }
    }
}
