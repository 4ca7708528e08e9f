using ChatOpsInspector.Commands;
using ChatOpsInspector.Sla;

namespace ChatOpsInspector.Tests.Commands;

public class ReportCommandParserTests
{
    [Theory]
    [InlineData("report", null, null)]
    [InlineData("vulns report payments", "payments", null)]
    [InlineData("report 2026-11", null, "2026-11")]
    [InlineData("report payments 2026-11", "payments", "2026-11")]
    [InlineData("REPORT payments 2026-11 --share", "payments", "2026-11")]
    public void ReportTakesAnOptionalNameAndMonth(string text, string? owner, string? month)
    {
        var parsed = CommandParser.Parse(text);

        Assert.Equal(CommandKind.Report, parsed.Kind);
        Assert.Equal(owner, parsed.Owner);
        Assert.Equal(month, parsed.Month?.ToString());
        Assert.True(parsed.IsSlow, "rendered and uploaded after Slack's 3 seconds");
    }

    [Theory]
    [InlineData("report 2026-13", "`2026-13` is not a month")]
    [InlineData("report 2026-11 2026-10", "`2026-10` is not a month")]
    [InlineData("report 2026-11 payments", "Unexpected `payments`")]
    [InlineData("report a b c", "Unexpected `c`")]
    public void BadReportArgumentsSayWhatIsWrong(string text, string error)
    {
        var parsed = CommandParser.Parse(text);

        Assert.Equal(CommandKind.Invalid, parsed.Kind);
        Assert.StartsWith(error, parsed.Error, StringComparison.Ordinal);
        Assert.Equal(CommandParser.Usages.Report, parsed.Usage);
    }

    [Fact]
    public void ReportIsNotAnOwnerName() => Assert.Equal(new ReportMonth(2026, 1), CommandParser.Parse("report 2026-01").Month);
}
