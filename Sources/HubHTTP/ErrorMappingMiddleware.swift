import HubDomain
import HubStore
import Hummingbird
import Logging

/// Renders every error a handler throws in the API's own format.
///
/// Store errors map once, here: the writer's queue full or shutting down → 503 with `Retry-After`,
/// a stream conflict → 409, an event refused for its content → 400; anything else is the hub's own
/// failure → 500 `500-101`, logged with its detail (never sent to the caller).
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
        case .storage:
            logger.error("storage failure", metadata: ["error": "\(error)"])
            return APIError(statusCode: 500, code: "500-101", developerMessage: "Internal server error.")
        }
    }
}
