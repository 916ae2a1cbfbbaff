import HubCommands
@_spi(Storage) import HubEventLog
import HubReadModels
import HubVault
import Testing

/// The hash chain's encoding is a contract with every log already written: these vectors fix it, so a
/// change that would stop old logs from verifying fails here first (a new layout needs a new version
/// byte, with the old one kept for the events written under it).
struct EventHashGoldenTests {
    static let event = RecordedEvent(
        position: 42,
        id: "0190c5d2-7b3a-7000-8000-000000000001",
        stream: "conversation/c1",
        version: 3,
        type: "message.received",
        schemaVersion: 2,
        recordedAt: 1_764_590_400_000,
        account: "acme",
        actor: "app/bot",
        correlationId: "corr-1",
        causationId: nil,
        data: #"{"text":"hi"}"#,
        hash: []
    )
    static let previous = [UInt8](repeating: 0x11, count: 32)

    /// Written from the documented layout (EventHash), not from the code's output.
    @Test func canonicalBytesAndHashOfAKnownEvent() {
        let expected =
            "01" + "000000000000002a"
            + "00000024" + hex("0190c5d2-7b3a-7000-8000-000000000001")
            + "0000000f" + hex("conversation/c1")
            + "0000000000000003"
            + "00000010" + hex("message.received")
            + "0000000000000002"
            + "0000019ad9c8b200"
            + "00000004" + hex("acme")
            + "00000007" + hex("app/bot")
            + "00000006" + hex("corr-1")
            + "ffffffff"
            + "0000000d" + hex(#"{"text":"hi"}"#)
        #expect(hex(EventHash.canonicalBytes(Self.event)) == expected)
        #expect(
            hex(EventHash.compute(Self.event, previous: Self.previous))
                == "13b2ac0315f1ef48d4c421f3b54654ba0c45ac62b9743c1b7812844fc2986f4b"
        )
    }

    /// Every column is in the hash: changing any one of them (NULL and "" differ too) changes it.
    @Test(arguments: [
        "position", "id", "stream", "version", "type", "schemaVersion", "recordedAt", "account", "account=nil",
        "actor", "correlationId", "correlationId=empty", "causationId", "data",
    ])
    func everyColumnIsCovered(_ column: String) {
        var edited = Self.event
        switch column {
        case "position": edited.position += 1
        case "id": edited.id += "x"
        case "stream": edited.stream += "x"
        case "version": edited.version += 1
        case "type": edited.type += "x"
        case "schemaVersion": edited.schemaVersion += 1
        case "recordedAt": edited.recordedAt += 1
        case "account": edited.account = "acmf"
        case "account=nil": edited.account = nil
        case "actor": edited.actor += "x"
        case "correlationId": edited.correlationId = nil
        case "correlationId=empty": edited.correlationId = ""
        case "causationId": edited.causationId = ""
        default: edited.data = #"{"text":"ho"}"#
        }
        #expect(
            EventHash.compute(edited, previous: Self.previous) != EventHash.compute(Self.event, previous: Self.previous)
        )
    }

    /// What a log-head checkpoint signs.
    @Test func checkpointSignedBytes() {
        let checkpoint = LogCheckpoint(
            position: 600,
            headHash: Array(0..<32),
            recordedAt: 1_764_590_400_000,
            signature: []
        )
        #expect(
            hex(checkpoint.signedBytes)
                == hex("hubstore.log-head.v1") + "00" + "0000000000000258" + "0000019ad9c8b200"
                + "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
        )
        #expect(checkpoint.head == "600:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
    }
}

func hex(_ text: String) -> String { hex(Array(text.utf8)) }

func hex(_ bytes: [UInt8]) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}
