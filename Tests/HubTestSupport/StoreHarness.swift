import HubCommands
@_spi(Storage) public import HubEventLog
import HubReadModels
import HubVault

/// Opens a store on `directory`, runs its writer for the length of `body`, then drains and closes it.
public func withStore<T: Sendable>(
    _ directory: String,
    configure: (inout EventStoreConfiguration) -> Void = { _ in },
    _ body: @Sendable (EventStore) async throws -> T
) async throws -> T {
    var configuration = EventStoreConfiguration(dataDirectory: directory)
    configure(&configuration)
    let store = try await EventStore.open(configuration, readModels: .hub)
    do {
        let result = try await store.withWriter(body)
        await store.close()
        return result
    } catch {
        await store.close()
        throw error
    }
}

public func draft(_ type: String = "test.happened", _ data: String = #"{"n":1}"#, account: String? = nil) -> EventDraft
{
    EventDraft(type: type, data: data, account: account, actor: "test")
}

/// `Result(catching:)` for async bodies.
public func catching<T>(_ body: () async throws -> T) async -> Result<T, any Error> {
    do { return .success(try await body()) } catch { return .failure(error) }
}
