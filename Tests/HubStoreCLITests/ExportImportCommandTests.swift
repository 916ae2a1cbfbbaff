import Foundation
import HubDomain
import HubTestSupport
import Testing

/// `hubstore export`, `verify --bundle` and `import` as an operator runs them, on the data directory
/// of `Tests/Fixtures/store-v1` (configuration updates, an escalation, soft deletes and undo, a
/// permanent delete, assets, pending deliveries).
@Suite(.timeLimit(.minutes(5)))
struct ExportImportCommandTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/store-v1").path

    static func copyFixture(to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for name in ["hub.sqlite", "master.key", "assets"] {
            try FileManager.default.copyItem(atPath: fixture + "/" + name, toPath: directory + "/" + name)
        }
    }

    /// Each table's rows and fingerprint after a rebuild from the log.
    static func tables(_ directory: String) async throws -> JSONValue {
        let rebuild = try await ChildProcess.run(["rebuild", "--data", directory, "--json"])
        #expect(rebuild.status == 0, "\(rebuild.stderr)")
        return try JSONValue.parse(rebuild.stdout)
    }

    @Test func anExportImportedIntoAFreshDirectoryIsTheSameLogWithTheSameReadModels() async throws {
        try await withTemporaryDirectory { directory in
            let source = directory + "/source"
            try Self.copyFixture(to: source)
            let export = try await ChildProcess.run(["export", "--data", source, "--out", directory + "/bundle.tar"])
            #expect(export.status == 0, "\(export.stderr)")
            #expect(export.stdout.contains("exported 74 events (positions 1...74)"), "\(export.stdout)")
            let check = try await ChildProcess.run(["verify", "--bundle", directory + "/bundle.tar"])
            #expect(check.status == 0, "\(check.stdout)")
            let copy = directory + "/copy"
            let imported = try await ChildProcess.run([
                "import", "--data", copy, "--in", directory + "/bundle.tar", "--master-key-file",
                source + "/master.key",
            ])
            #expect(imported.status == 0, "\(imported.stderr)")
            // Its own master key, the same log (an export of it is the same bytes), the same read models.
            #expect(
                FileManager.default.contents(atPath: copy + "/master.key")
                    != FileManager.default.contents(atPath: source + "/master.key")
            )
            let again = try await ChildProcess.run(["export", "--data", copy, "--out", directory + "/again"])
            #expect(again.status == 0, "\(again.stderr)")
            let first = try await ChildProcess.run(["export", "--data", source, "--out", directory + "/first"])
            #expect(first.status == 0)
            for name in ["events.ndjson"] {
                #expect(
                    FileManager.default.contents(atPath: directory + "/again/" + name)
                        == FileManager.default.contents(atPath: directory + "/first/" + name)
                )
            }
            let verify = try await ChildProcess.run(["verify", "--data", copy, "--projections"])
            #expect(verify.status == 0, "\(verify.stdout)")
            #expect(try await Self.tables(copy) == (try await Self.tables(source)))
            #expect(try FileManager.default.contentsOfDirectory(atPath: copy + "/assets").count > 0)
        }
    }

    @Test func damagedBundlesAreRefusedWithTheReasonAndImportWritesNothing() async throws {
        try await withTemporaryDirectory { directory in
            let source = directory + "/source"
            try Self.copyFixture(to: source)
            let bundle = directory + "/bundle"
            let export = try await ChildProcess.run(["export", "--data", source, "--out", bundle])
            #expect(export.status == 0, "\(export.stderr)")
            let events = try String(contentsOfFile: bundle + "/events.ndjson", encoding: .utf8)
            var lines = events.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let asset = try #require(try FileManager.default.contentsOfDirectory(atPath: bundle + "/assets").first)
            let cases: [(String, (String) throws -> Void, String)] = [
                (
                    "one byte of one event changed",
                    { copy in
                        var changed = lines
                        var bytes = Array(lines[9].utf8)
                        let at = try #require(lines[9].range(of: "\"actor\":\"")).upperBound.utf16Offset(in: lines[9])
                        bytes[at] = bytes[at] == UInt8(ascii: "x") ? UInt8(ascii: "y") : UInt8(ascii: "x")
                        changed[9] = String(decoding: bytes, as: UTF8.self)
                        try changed.joined(separator: "\n").write(
                            toFile: copy + "/events.ndjson",
                            atomically: true,
                            encoding: .utf8
                        )
                    },
                    "position 10: the event does not match its hash"
                ),
                (
                    "an event removed",
                    { copy in
                        var removed = lines
                        removed.remove(at: 20)
                        try removed.joined(separator: "\n").write(
                            toFile: copy + "/events.ndjson",
                            atomically: true,
                            encoding: .utf8
                        )
                    },
                    "position 21 is missing"
                ),
                (
                    "a missing asset",
                    { copy in try FileManager.default.removeItem(atPath: copy + "/assets/" + asset) },
                    "asset \(asset) is missing"
                ),
                (
                    "a truncated file",
                    { copy in
                        let cut = String(events.prefix(events.utf8.count / 2))
                        try cut.write(toFile: copy + "/events.ndjson", atomically: true, encoding: .utf8)
                    },
                    "events.ndjson ends inside a line: cut short"
                ),
            ]
            lines.removeLast(lines.last == "" ? 1 : 0)
            for (index, (name, damage, reason)) in cases.enumerated() {
                let copy = directory + "/damaged-\(index)"
                try FileManager.default.copyItem(atPath: bundle, toPath: copy)
                try damage(copy)
                let verify = try await ChildProcess.run(["verify", "--bundle", copy])
                #expect(verify.status == 1, "\(name)")
                #expect(verify.stdout.contains(reason), "\(name): \(verify.stdout)")
                let target = directory + "/target-\(index)"
                let imported = try await ChildProcess.run([
                    "import", "--data", target, "--in", copy, "--master-key-file", source + "/master.key",
                ])
                #expect(imported.status == 1, "\(name)")
                #expect(imported.stderr.contains(reason), "\(name): \(imported.stderr)")
                #expect((try? FileManager.default.contentsOfDirectory(atPath: target))?.isEmpty ?? true, "\(name)")
            }
            // A tar cut short is refused too.
            let tar = try await ChildProcess.run(["export", "--data", source, "--out", directory + "/b.tar"])
            #expect(tar.status == 0)
            let bytes = try #require(FileManager.default.contents(atPath: directory + "/b.tar"))
            try bytes.prefix(bytes.count - 3000).write(to: URL(fileURLWithPath: directory + "/cut.tar"))
            let cut = try await ChildProcess.run(["verify", "--bundle", directory + "/cut.tar"])
            #expect(cut.status == 1)
            #expect(cut.stdout.contains("cut short"), "\(cut.stdout)")
        }
    }

    @Test func importRefusesANonEmptyTargetAMissingKeyAndAFilteredExport() async throws {
        try await withTemporaryDirectory { directory in
            let source = directory + "/source"
            try Self.copyFixture(to: source)
            let bundle = directory + "/bundle"
            #expect(try await ChildProcess.run(["export", "--data", source, "--out", bundle]).status == 0)
            let occupied = try await ChildProcess.run(["import", "--data", source, "--in", bundle])
            #expect(occupied.status == 1)
            #expect(occupied.stderr.contains("is not empty"), "\(occupied.stderr)")
            let keyless = try await ChildProcess.run(["import", "--data", directory + "/new", "--in", bundle])
            #expect(keyless.status == 1)
            #expect(keyless.stderr.contains("pass --master-key-file"), "\(keyless.stderr)")
            // A filtered export verifies on its own (each event carries the hash before it), and is no copy.
            let filtered = directory + "/filtered"
            let partial = try await ChildProcess.run([
                "export", "--data", source, "--out", filtered, "--types", "message.received,message.routed",
            ])
            #expect(partial.status == 0, "\(partial.stderr)")
            #expect(partial.stdout.contains("filtered"))
            let check = try await ChildProcess.run(["verify", "--bundle", filtered])
            #expect(check.status == 0, "\(check.stdout)")
            let refused = try await ChildProcess.run([
                "import", "--data", directory + "/new2", "--in", filtered, "--master-key-file", source + "/master.key",
            ])
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("a filtered export cannot be imported"), "\(refused.stderr)")
            // A filter that is neither a position nor a time is refused before anything is written.
            let bad = try await ChildProcess.run([
                "export", "--data", source, "--out", directory + "/bad", "--from", "yesterday",
            ])
            #expect(bad.status == 1)
            #expect(bad.stderr.contains("'yesterday' is not an RFC 3339 time"), "\(bad.stderr)")
            #expect(!FileManager.default.fileExists(atPath: directory + "/bad"))
        }
    }
}
