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
