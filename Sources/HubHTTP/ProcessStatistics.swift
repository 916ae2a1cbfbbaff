import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The process's resident memory and its peak, from `/proc/self/status` (zero where there is none).
struct ProcessMemory {
    var resident: Int = 0
    var peak: Int = 0

    static func read() -> ProcessMemory {
        var memory = ProcessMemory()
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return memory }
        for line in status.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, let kilobytes = Int(fields[1]) else { continue }
            switch fields[0] {
            case "VmRSS:": memory.resident = kilobytes * 1024
            case "VmHWM:": memory.peak = kilobytes * 1024
            default: break
            }
        }
        return memory
    }
}

/// The process's CPU time and storage writes, from `/proc/self` (zero where there is none).
enum ProcessStatistics {
    /// User plus system CPU seconds (`/proc/self/stat`, fields 14 and 15, in clock ticks).
    static func cpuSeconds() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let end = stat.lastIndex(of: ")")
        else { return 0 }
        // After the command name (which may hold spaces) come field 3 onwards.
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return ticks > 0 ? (user + system) / ticks : 0
    }

    /// The bytes the process caused to be sent to storage (`write_bytes` of `/proc/self/io`).
    static func storageWrittenBytes() -> Int {
        guard let io = try? String(contentsOfFile: "/proc/self/io", encoding: .utf8) else { return 0 }
        for line in io.split(separator: "\n") where line.hasPrefix("write_bytes:") {
            return Int(line.dropFirst("write_bytes:".count).trimmingCharacters(in: .whitespaces)) ?? 0
        }
        return 0
    }
}

/// The CPU time of the process's threads alive now, grouped by what they run (from
/// `/proc/self/task/*/stat`, user plus system): where a busy hub's cores go.
enum ThreadGroup: String, CaseIterable {
    /// `hubstore-writer`: every write transaction.
    case writer
    /// `hubstore-wal-sync`: the WAL's fsyncs, off the writer's thread.
    case walSync = "wal_sync"
    /// NIO's event loops: HTTP in and out (the server, the delivery client).
    case eventLoops = "event_loops"
    /// Dispatch's global queues' threads, where Swift Concurrency's jobs run: request handlers, the
    /// delivery workers, other tasks.
    case tasks
    /// Dispatch's serial queues' threads: the read connections' (queries, the outbox reads).
    case dispatch
    /// Every other thread of the process (the main thread, the tools' own).
    case other

    /// The group of a thread named `name` (its `comm`: at most 15 bytes, and dispatch's threads keep
    /// the end of their queue's name).
    init(threadName name: some StringProtocol) {
        if name == "hubstore-writer" {
            self = .writer
        } else if name.hasPrefix("hubstore-wal") {
            self = .walSync
        } else if name.hasPrefix("NIO-") {
            self = .eventLoops
        } else if name.hasSuffix("overcommit") {
            // A serial queue's thread (`com.apple.root.<qos>.overcommit`).
            self = .dispatch
        } else if name.hasSuffix("-qos") {
            // A global queue's thread (`com.apple.root.<qos>`), where Swift Concurrency's jobs run.
            self = .tasks
        } else {
            self = .other
        }
    }

    /// CPU seconds per group, every group present (zero where it has no thread).
    static func cpuSeconds() -> [ThreadGroup: Double] {
        var seconds = Dictionary(uniqueKeysWithValues: allCases.map { ($0, 0.0) })
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        guard ticks > 0, let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else {
            return seconds
        }
        for task in tasks {
            // A thread that ended since the listing has no files any more: it is left out.
            guard let stat = try? String(contentsOfFile: "/proc/self/task/\(task)/stat", encoding: .utf8),
                let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")")
            else { continue }
            let name = stat[stat.index(after: open)..<close]
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { continue }
            seconds[ThreadGroup(threadName: name), default: 0] += (user + system) / ticks
        }
        return seconds
    }
}
