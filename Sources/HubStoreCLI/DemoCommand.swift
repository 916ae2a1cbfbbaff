import ArgumentParser
import Foundation
import HubTools

extension HubStoreCommand {
    struct Demo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a whole conversation through a hub in this process and show what it recorded.",
            discussion: """
                Starts HubStore on a temporary data directory (or --data) with three small callback \
                receivers (a customer app, a bot, an agent app), configures it through the public API in the \
                documented order, and runs customer -> bot -> escalation -> agent -> end over real HTTP, each \
                party answering what its callback received. Prints the transcript, the delivery log and the \
                verify result. Nothing listens beyond 127.0.0.1, and the temporary directory is removed.
                """
        )

        @Option(help: "Keep the hub's data in this directory (default: a temporary one, removed at the end).")
        var data: String?

        func run() async throws {
            let directory =
                data
                ?? FileManager.default.temporaryDirectory.appendingPathComponent("hubstore-demo-\(UUID().uuidString)")
                .path
            defer { if data == nil { try? FileManager.default.removeItem(atPath: directory) } }
            let demo = HubTools.Demo(dataDirectory: directory) { line in print(line) }
            let report = try await failingClearly { try await demo.run() }
            print("\nTranscript of conversation \(report.conversation):")
            print(report.transcript, terminator: "")
            print("\nDelivery log (every attempt is an event in the log):")
            for line in report.deliveries { print("  " + line) }
            print(
                "\nverify: "
                    + (report.verify.failure.map { "FAILED at \($0)" }
                        ?? "ok, \(report.verify.eventCount) events, hash chain intact")
            )
            if !report.verify.isIntact { throw ExitCode.failure }
        }
    }
}
