import Foundation
import HubTestSupport
import Testing

/// The full-disk scenario of the hardening issue, from outside: `tools/full-disk-check` mounts a small
/// tmpfs, runs the built `hubstore serve` on it, fills it with 12 senders of ~100 KB messages, lets
/// space return, and checks that every message answered 202 is in the log. Needs root for `mount`:
/// skipped where mounting is not permitted.
@Suite(.timeLimit(.minutes(5)), .enabled(if: canMountTmpfs, "mounting a tmpfs needs root"))
struct FullDiskScenarioTests {
    @Test func noAcknowledgedMessageIsLostWhenTheDiskFills() async throws {
        let script = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("tools/full-disk-check").path
        let check = try ChildProcess(
            ["python3", script, "--binary", hubstoreBinary, "--runs", "1", "--size-mb", "20", "--seconds", "40"],
            executable: "/usr/bin/env"
        )
        let status = try await check.waitForExit(timeout: .seconds(240))
        #expect(status == 0, "\(check.standardOutput)\n\(check.standardError)")
        #expect(check.standardOutput.contains(" 0 lost"), "\(check.standardOutput)")
    }
}

/// Whether this process may mount a tmpfs (root, and a kernel that allows it here).
private let canMountTmpfs: Bool = {
    guard getuid() == 0 else { return false }
    let point = FileManager.default.temporaryDirectory.appendingPathComponent("hubstore-mount-\(UUID())").path
    guard (try? FileManager.default.createDirectory(atPath: point, withIntermediateDirectories: true)) != nil
    else { return false }
    defer { try? FileManager.default.removeItem(atPath: point) }
    guard mount("tmpfs", point, "tmpfs", 0, "size=1m") == 0 else { return false }
    umount(point)
    return true
}()
