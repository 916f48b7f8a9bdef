/// Who may apply at the window, and what it costs (002, 003, 004).
public enum WindowRule {
    /// Under-15s apply through a legal representative (003, 004: 15歳未満の方は法定代理人が代理申請).
    public static func applicantRefusal(age: Int, applicantIsLegalRepresentative: Bool) -> String? {
        guard !applicantIsLegalRepresentative, age < Eligibility.signingMinimumAge else { return nil }
        return "the holder is \(age): under-15s apply through a legal representative (--applicant legal-representative) (seeds 003, 004)"
    }

    /// Fees in yen (002, 004): free in general; 800 for a card reissued because it was lost, 200 for a
    /// certificate reissued because the card was lost.
    public static let cardReissueAfterLoss = 800
    public static let certificateReissueAfterLoss = 200
}
