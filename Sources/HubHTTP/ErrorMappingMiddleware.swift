import HubDomain
import HubSQLite
import HubStore
import Hummingbird
import Logging

/// Renders every error a handler throws in the API's own format.
///
/// Store errors map once, here: the writer's queue full or shutting down → 503 `503-101` with
/// `Retry-After`, storage that fails to write (a full disk, an I/O error; nothing of the request was
/// kept) → 503 `503-102` with `Retry-After`, a stream conflict → 409, an event refused for its
/// content → 400; anything else is the hub's own failure → 500 `500-101`, logged with its detail
/// (never sent to the caller).
struct ErrorMappingMiddleware: RouterMiddleware {
    typealias Context = HubRequestContext

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as any HTTPResponseError {
            throw error
        } catch let error as EventStoreError {
            throw Self.map(error, logger: context.logger)
        } catch is CancellationError {
            throw APIError(
                statusCode: 503,
                code: "503-101",
                developerMessage: "The hub is shutting down; retry shortly."
            )
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)"])
            throw APIError(statusCode: 500, code: "500-101", developerMessage: "Internal server error.")
        }
    }

    static func map(_ error: EventStoreError, logger: Logger) -> APIError {
        switch error {
        case .overloaded, .shuttingDown:
            return APIError(
                statusCode: 503,
                code: "503-101",
                developerMessage: "The hub is busy or shutting down; retry shortly.",
                details: [.init(key: "Retry-After", value: "1")]
            )
        case .wrongExpectedVersion:
            return APIError(statusCode: 409, code: "409-101", developerMessage: "\(error)")
        case .eventTooLarge, .invalidEvent:
            return APIError(statusCode: 400, code: "400-102", developerMessage: "\(error)")
        case .storage(let failure):
            // The writer logs the failure (once a second while it lasts); the request only says so.
            logger.debug("storage failure", metadata: ["error": "\(failure)"])
            return APIError(
                statusCode: 503,
                code: "503-102",
                developerMessage: "The hub cannot write to its storage right now (\(failure.code.summary)); "
                    + "nothing of this request was kept. Retry later.",
                details: [.init(key: "Retry-After", value: "1")]
            )
        }
    }
}
