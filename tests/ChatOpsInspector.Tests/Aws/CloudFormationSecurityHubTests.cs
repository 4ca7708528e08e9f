namespace ChatOpsInspector.Tests.Aws;

/// <summary>
/// The template's Security Hub option. Event patterns follow the Security Hub user guide's event
/// formats ("Security Hub Findings - Imported", "Findings Imported V2"); the IAM action follows the
/// Security Hub API model, where BatchUpdateFindingsV2 is authorised as securityhub:BatchUpdateFindings.
/// </summary>
public partial class CloudFormationTemplateTests
{
    [Theory]
    [InlineData("none", false, false)]
    [InlineData("asff", true, false)]
    [InlineData("ocsf", false, true)]
    [InlineData("both", true, true)]
    public void SecurityHubRulesExistOnlyForTheChosenFormats(string choice, bool asff, bool ocsf)
    {
        var parameters = new Dictionary<string, string> { ["SecurityHubFindings"] = choice };
        Assert.Equal(asff, Condition((string)Resource("SecurityHubAsffRule")["Condition"], parameters));
        Assert.Equal(ocsf, Condition((string)Resource("SecurityHubOcsfRule")["Condition"], parameters));
        Assert.Equal("none", Map(Map(Template.Value["Parameters"])["SecurityHubFindings"])["Default"]);
    }

    [Fact]
    public void SecurityHubRulesMatchOnlyVulnerabilityFindingsAndGoToTheSameDestination()
    {
        var asff = Map(Properties("SecurityHubAsffRule")["EventPattern"]);
        Assert.Equal(["aws.securityhub"], Strings(asff["source"]));
        Assert.Equal(["Security Hub Findings - Imported"], Strings(asff["detail-type"]));
        var asffFindings = Map(Map(asff["detail"])["findings"]);
        Assert.Equal("Software and Configuration Checks/Vulnerabilities", Map(List(asffFindings["Types"])[0])["prefix"]);

        var ocsf = Map(Properties("SecurityHubOcsfRule")["EventPattern"]);
        Assert.Equal(["aws.securityhub"], Strings(ocsf["source"]));
        Assert.Equal(["Findings Imported V2"], Strings(ocsf["detail-type"]));
        Assert.Equal(["2002"], List(Map(Map(ocsf["detail"])["findings"])["class_uid"]).Select(v => v.ToString()));

        foreach (var rule in new[] { "SecurityHubAsffRule", "SecurityHubOcsfRule" })
        {
            var target = Map(Assert.Single(List(Properties(rule)["Targets"])));
            Assert.Equal(["InspectorApiDestination", "Arn"], Strings(Map(target["Arn"])["Fn::GetAtt"]));
            Assert.Equal(["ApiDestinationInvokeRole", "Arn"], Strings(Map(target["RoleArn"])["Fn::GetAtt"]));
            Assert.Equal(["EventsDeadLetterQueue", "Arn"], Strings(Map(Map(target["DeadLetterConfig"])["Arn"])["Fn::GetAtt"]));
        }
    }

    [Theory]
    [InlineData("CRITICAL", new[] { "CRITICAL" }, new[] { "6", "5" })]
    [InlineData("HIGH", new[] { "CRITICAL", "HIGH" }, new[] { "6", "5", "4" })]
    public void SecurityHubRulesForwardTheSameSeveritiesAsInspectorsRule(string minSeverity, string[] labels, string[] ids)
    {
        var parameters = new Dictionary<string, string> { ["MinSeverity"] = minSeverity };
        var asff = Map(Map(Map(Map(Properties("SecurityHubAsffRule")["EventPattern"])["detail"])["findings"])["Severity"])["Label"];
        var ocsf = Map(Map(Map(Properties("SecurityHubOcsfRule")["EventPattern"])["detail"])["findings"])["severity_id"];
        Assert.Equal(labels, Strings(Resolve(asff, parameters)));
        Assert.Equal(ids, List(Resolve(ocsf, parameters)).Select(v => v.ToString()!));
    }

    [Fact]
    public void InspectorsOwnRuleCanBeTurnedOffWhenFindingsComeThroughSecurityHub()
    {
        var state = Properties("FindingsRule")["State"];
        Assert.Equal("ENABLED", Resolve(state, new Dictionary<string, string>()));
        Assert.Equal("DISABLED", Resolve(state, new Dictionary<string, string> { ["ForwardInspectorEvents"] = "false" }));
    }

    [Fact]
    public void WriteBackPermissionIsGrantedOnlyWhenAskedForAndOnlyOnTheHub()
    {
        var statement = BotPolicyStatement("WriteTriageToSecurityHubFindings");
        Assert.Equal(["securityhub:BatchUpdateFindings"], Actions(statement!));
        Assert.All(Resources(statement!), r => Assert.EndsWith(":hub/default", r, StringComparison.Ordinal));
        Assert.Null(Resolve(RawBotStatement("WriteTriageToSecurityHubFindings"), new Dictionary<string, string>()));
        Assert.NotNull(Resolve(RawBotStatement("WriteTriageToSecurityHubFindings"), new Dictionary<string, string> { ["SecurityHubWriteBack"] = "true" }));
    }

    [Fact]
    public void DeadLetterQueueAcceptsEventsFromEverySecurityHubRule()
    {
        var statement = Map(Assert.Single(Statements(Map(Properties("EventsDeadLetterQueuePolicy")["PolicyDocument"]))));
        var sources = List(Map(Map(statement["Condition"])["ArnEquals"])["aws:SourceArn"]);
        var all = new Dictionary<string, string> { ["SecurityHubFindings"] = "both" };
        var resolved = sources.Select(s => Resolve(s, all)).Where(s => s is not null).Select(s => Strings(Map(s)["Fn::GetAtt"])[0]).ToList();
        Assert.Equal(["FindingsRule", "SecurityHubAsffRule", "SecurityHubOcsfRule"], resolved);
    }

    private static Dictionary<object, object>? BotPolicyStatement(string sid) =>
        BotStatements().FirstOrDefault(s => s.TryGetValue("Sid", out var v) && Equals(v, sid));

    /// <summary>The statement list entry (still wrapped in its Fn::If) whose true branch has <paramref name="sid"/>.</summary>
    private static object RawBotStatement(string sid) =>
        List(Map(Properties("BotPolicy")["PolicyDocument"])["Statement"]).Single(item =>
            item is Dictionary<object, object> m && m.TryGetValue("Fn::If", out var fnIf)
            && List(fnIf)[1] is Dictionary<object, object> branch && Equals(branch.GetValueOrDefault("Sid"), sid));
}
