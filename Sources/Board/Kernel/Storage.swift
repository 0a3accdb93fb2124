import Glibc

/// Free space of the file system holding a directory (statvfs(3)), for the "storage full"
/// error condition.
public struct StorageSpace: Hashable, Sendable {
    /// Bytes an unprivileged process may still write, and the file system's size.
    public var availableBytes: UInt64
    public var totalBytes: UInt64

    public init(availableBytes: UInt64, totalBytes: UInt64) {
        self.availableBytes = availableBytes
        self.totalBytes = totalBytes
    }

    /// The figures for the file system of `path`; nil when statvfs fails.
    public static func of(_ path: String) -> StorageSpace? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        let unit = UInt64(info.f_frsize == 0 ? info.f_bsize : info.f_frsize)
        let available = UInt64(info.f_bavail).multipliedReportingOverflow(by: unit)
        let total = UInt64(info.f_blocks).multipliedReportingOverflow(by: unit)
        return StorageSpace(availableBytes: available.overflow ? .max : available.partialValue,
                            totalBytes: total.overflow ? .max : total.partialValue)
    }

    /// Full when fewer than `minimumFreeBytes` remain (the agent's state files are a few KiB;
    /// a rewrite needs room for the temporary copy).
    public func isFull(minimumFreeBytes: UInt64) -> Bool { availableBytes < minimumFreeBytes }
}
