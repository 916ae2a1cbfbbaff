import Foundation
import HTTPTypes
import HubDomain
import HubEventLog
import HubReadModels
import HubVault
import Hummingbird
import NIOCore

/// `GET /v1/conversations`: a page of conversations, and the cursor of the next one.
struct ConversationPage: JSONResponse {
    var items: [JSONValue]
    /// Where the next page starts (`startedAt`, id); `nil` on the last page.
    var next: (startedAt: Int64, id: String)?

    var json: JSONValue {
        var body: [String: JSONValue] = ["conversations": .array(items)]
        if let next {
            body["nextCursor"] = .string(Base64URL.encode(Array("\(next.startedAt):\(next.id)".utf8)))
        }
        return .object(body)
    }
}

/// `GET /v1/assets?conversation=`: a conversation's assets.
struct AssetList: JSONResponse {
    var records: [AssetRecord]
    var json: JSONValue { .object(["assets": .array(records.map(\.json))]) }
}

/// `GET /v1/conversations/{id}/transcript`, in the format the caller negotiated.
struct TranscriptResponse: ResponseGenerator {
    enum Format: String, CaseIterable {
        case json = "application/json"
        case ndjson = "application/x-ndjson"
        case text = "text/plain"

        var written: ConversationQueries.TranscriptFormat {
            switch self {
            case .json: .json
            case .ndjson: .ndjson
            case .text: .text
            }
        }

        var contentType: String { self == .text ? "text/plain; charset=utf-8" : rawValue }
    }

    var body: [UInt8]
    var format: Format

    func response(from request: Request, context: some RequestContext) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: format.contentType],
            body: .init(byteBuffer: ByteBuffer(bytes: body))
        )
    }
}

/// `GET /v1/accounts/{id}/configuration`: the account resolved as of a moment, and which one.
struct AccountConfiguration: JSONResponse {
    var document: JSONValue
    var moment: ConfigurationHistory.Moment
    /// The log's head, which `now` stands for.
    var head: Int64

    var json: JSONValue {
        guard case .object(var fields) = document else { return document }
        switch moment {
        case .now: fields["asOf"] = .object(["position": .integer(head)])
        case .position(let position): fields["asOf"] = .object(["position": .integer(position)])
        case .time(let milliseconds): fields["asOf"] = .object(["time": .string(Timestamp.format(milliseconds))])
        }
        return .object(fields)
    }
}

/// `GET /v1/configuration/history`: every version of one resource.
struct ConfigurationVersions: JSONResponse {
    var kind: ResourceKind
    var id: String
    var versions: [ConfigurationHistory.Version]

    var json: JSONValue {
        .object([
            "kind": .string(kind.rawValue), "id": .string(id),
            "versions": .array(
                versions.map { version in
                    .object([
                        "position": .integer(version.position),
                        "recordedAt": .string(Timestamp.format(version.recordedAt)),
                        "actor": .string(version.actor), "change": .string(version.change),
                        "changedFields": .array(version.changedFields.map(JSONValue.string)),
                        "state": version.state ?? .null,
                    ])
                }
            ),
        ])
    }
}

/// `GET /v1/log/head`: the latest signed checkpoint of the log's head, with the key to check it.
struct SignedHead: JSONResponse {
    var checkpoint: LogCheckpoint
    var key: LogHeadKey

    var json: JSONValue {
        .object([
            "position": .integer(checkpoint.position),
            "hash": .string(checkpoint.headHash.hexEncoded),
            "recordedAt": .string(Timestamp.format(checkpoint.recordedAt)),
            "head": .string(checkpoint.head),
            "algorithm": "Ed25519",
            "signature": .string(checkpoint.signature.hexEncoded),
            "signedBytes": .string(checkpoint.signedBytes.hexEncoded),
            "publicKey": .string(key.rawRepresentation.hexEncoded),
        ])
    }
}
