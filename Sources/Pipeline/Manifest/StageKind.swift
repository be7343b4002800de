/// The name of a stage kind a manifest may declare. Each kind is declared once (`StageDeclaration`, one file per
/// kind in `Sources/Pipeline/Stages/`); the known kinds are those of `StageDeclaration.all`.
public struct StageKind: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    public let rawValue: String

    /// A declared kind's name; nil for any other string.
    public init?(rawValue: String) {
        guard StageDeclaration.all.contains(where: { $0.kind.rawValue == rawValue }) else { return nil }
        self.rawValue = rawValue
    }

    /// The name of a kind being declared (only a declaration's `static let` calls this).
    init(declaring name: String) { rawValue = name }

    /// Every declared kind, in the order of `StageDeclaration.all`.
    public static var allCases: [StageKind] { StageDeclaration.all.map(\.kind) }

    public var description: String { rawValue }

    /// The kind's declaration.
    public var declaration: StageDeclaration {
        guard let d = StageDeclaration.of(self) else { preconditionFailure("stage kind \(rawValue) has no declaration") }
        return d
    }

    /// Whether a stage of this kind reads the artifact files of its inputs (activations, vectors, tuned weights);
    /// judges read stored generations and reports stored numbers only.
    public var readsInputArtifacts: Bool { self != .judge && self != .report }
    public var spec: StageKindSpec { declaration.spec }
}
