/// SplitMix64: the one source of randomness of a stream, so a seed replays exactly.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// A uniform double in 0..<1 from the top 53 bits (what Double.random does, without its generic overhead).
    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
    mutating func chance(_ p: Double) -> Bool { p > 0 && unit() < p }
    mutating func between(_ a: Double, _ b: Double) -> Double { a < b ? a + (b - a) * unit() : a }
}
