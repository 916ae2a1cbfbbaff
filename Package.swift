// swift-tools-version: 6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    // The writer's path crosses the log kernel, the read models and the domain: let release builds
    // specialize and inline across those modules as if they were one.
    .unsafeFlags(["-cross-module-optimization"], .when(configuration: .release)),
]

let package = Package(
    name: "hubstore",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hubstore", targets: ["HubStoreCLI"]),
        .library(name: "HubStore", targets: ["HubEventLog", "HubVault", "HubReadModels", "HubCommands"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CHubSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .target(
            name: "CHubWALBuffer",
            linkerSettings: [.linkedLibrary("sqlite3")]
        ),
        .target(
            name: "HubDomain",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HubSQLite",
            dependencies: [
                "CHubSQLite",
                "CHubWALBuffer",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HubEventLog",
            dependencies: [
                "HubDomain",
                "HubSQLite",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HubVault",
            dependencies: [
                "HubDomain",
                "HubEventLog",
                "HubSQLite",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HubReadModels",
            dependencies: [
                "HubDomain",
                "HubEventLog",
                "HubSQLite",
                "HubVault",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HubCommands",
            dependencies: [
                "HubDomain",
                "HubEventLog",
                "HubReadModels",
                "HubVault",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HubDelivery",
            dependencies: [
                "HubDomain",
                "HubEventLog",
                "HubVault",
                "HubReadModels",
                "HubCommands",
                "HubSQLite",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HubHTTP",
            dependencies: [
                "HubDomain",
                "HubDelivery",
                "HubEventLog",
                "HubVault",
                "HubReadModels",
                "HubCommands",
                "HubSQLite",
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HubTools",
            dependencies: [
                "HubDelivery",
                "HubDomain",
                "HubHTTP",
                "HubEventLog",
                "HubVault",
                "HubReadModels",
                "HubCommands",
                "HubSQLite",
                "CHubSQLite",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "HubStoreCLI",
            dependencies: [
                "HubDelivery",
                "HubHTTP",
                "HubTools",
                "HubEventLog",
                "HubVault",
                "HubReadModels",
                "HubCommands",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings,
            // jemalloc as the process's allocator (see README, Performance).
            linkerSettings: [.linkedLibrary("jemalloc", .when(platforms: [.linux]))]
        ),
        .target(
            name: "CHubFaultVFS",
            path: "Tests/CHubFaultVFS",
            linkerSettings: [.linkedLibrary("sqlite3")]
        ),
        .target(
            name: "HubTestSupport",
            dependencies: [
                "CHubFaultVFS",
                "HubSQLite",
                "HubEventLog",
                "HubVault",
                "HubReadModels",
                "HubCommands",
                "HubTools",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/HubTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HubDomainTests",
            dependencies: ["HubDomain"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HubSQLiteTests",
            dependencies: ["HubSQLite", "HubTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HubStoreTests",
            dependencies: [
                "HubEventLog", "HubVault", "HubReadModels", "HubCommands", "HubSQLite", "HubTools", "HubTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HubHTTPTests",
            dependencies: [
                "HubDelivery",
                "HubDomain",
                "HubHTTP",
                "HubSQLite",
                "HubEventLog",
                "HubVault",
                "HubReadModels",
                "HubCommands",
                "HubTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HubStoreCLITests",
            dependencies: [
                "HubStoreCLI", "HubEventLog", "HubVault", "HubReadModels", "HubCommands", "HubSQLite", "HubTools",
                "HubTestSupport",
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
