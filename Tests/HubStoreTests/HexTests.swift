import Testing

@testable import HubCommands
@testable import HubEventLog
@testable import HubReadModels
@testable import HubVault

struct HexTests {
    @Test func bytesBecomeTwoLowerCaseDigitsEach() {
        #expect([UInt8]().hexEncoded == "")
        #expect([0x00, 0x0f, 0xa5, 0xff].hexEncoded == "000fa5ff")
        let all = (0...255).map(UInt8.init).hexEncoded
        #expect(all.count == 512)
        #expect(all.hasPrefix("000102030405060708090a0b0c0d0e0f10") && all.hasSuffix("fafbfcfdfeff"))
    }

    @Test func digitsOfEitherCaseDecodeBackAndAnythingElseIsRefused() {
        let all = (0...255).map(UInt8.init)
        #expect(all.hexEncoded.hexDecoded == all)
        #expect("00FFa5".hexDecoded == [0x00, 0xff, 0xa5])
        #expect("".hexDecoded == [])
        for bad in ["0", "0g", "zz", "0x00", "é0"] { #expect(bad.hexDecoded == nil, "\(bad)") }
    }
}
