using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Tests.Workflow;

/// <summary>The control mapping has one source, AuditControls; README shows it as is and control= matches its ids exactly.</summary>
public sealed class AuditControlTableTests
{
    [Fact]
    public void ReadmeControlTableIsTheTableInCode()
    {
        var readme = File.ReadAllText(Path.Combine(Fixtures.FindSolutionDir(), "README.md")).ReplaceLineEndings("\n");

        Assert.Contains(AuditControls.MarkdownTable(), readme, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryActionHasOneRecordTypeAndFrameworksAreNamedWithTheirVersion()
    {
        var actions = AuditControls.Types.SelectMany(t => t.Actions).ToArray();
        Assert.Equal(actions.Length, actions.Distinct().Count());
        Assert.Equal(["CIS Controls v8", "ISO/IEC 27001:2022", "NIST SP 800-53 Rev. 5", "PCI DSS v4.0"],
            AuditControls.All.Select(c => c.Framework).Distinct().Order());
        Assert.Null(AuditControls.TypeOf("chat_post_failed"));
        Assert.Empty(AuditControls.LabelsFor("securityhub_writeback"));
    }

    [Theory]
    [InlineData("patch_finished", "6.3.3", true)]
    [InlineData("patch_finished", "PCI DSS v4.0 6.3.3", true)]
    [InlineData("patch_finished", "6.3", false)]
    [InlineData("patch_finished", "6.3.31", false)]
    [InlineData("acknowledged", "6.3.3", false)]
    [InlineData("acknowledged", "6.3.1", true)]
    [InlineData("verified_fixed", "11.3.1", true)]
    [InlineData("verified_fixed", "ra-5", true)]
    [InlineData("detected", "7.5", true)]
    [InlineData("detected", "7", false)]
    public void ControlFilterMatchesIdsExactly(string action, string query, bool matches) =>
        Assert.Equal(matches, AuditControls.Matches(action, query));

    [Fact]
    public void AnUnknownControlIsNotOneTheFilterKnows()
    {
        Assert.False(AuditControls.IsKnown("6.2"));
        Assert.False(AuditControls.IsKnown("6.3.31"));
        Assert.True(AuditControls.IsKnown("A.8.8"));
    }
}
