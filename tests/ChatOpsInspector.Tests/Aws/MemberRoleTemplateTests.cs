using YamlDotNet.Serialization;
using ChatOpsInspector.Tests.Infrastructure;

namespace ChatOpsInspector.Tests.Aws;

/// <summary>The member-account role (a StackSet beside the main template): only the bot may assume it, and it may only patch.</summary>
public partial class CloudFormationTemplateTests
{
    private static readonly Lazy<Dictionary<object, object>> MemberTemplate = new(() =>
        (Dictionary<object, object>)new DeserializerBuilder().Build().Deserialize<object>(
            File.ReadAllText(Path.Combine(Fixtures.FindSolutionDir(), "manifests", "aws", "chatopsinspector-member-role.yaml")))!);

    private static Dictionary<object, object> MemberRole() => Map(Map(Map(MemberTemplate.Value["Resources"])["MemberRole"])["Properties"]);

    [Fact]
    public void MemberRoleTrustsOnlyTheBotsRoleAndRequiresTheExternalIdWhenOneIsSet()
    {
        var trust = Map(Assert.Single(Statements(Map(MemberRole()["AssumeRolePolicyDocument"]))));

        Assert.Equal("2010-09-09", MemberTemplate.Value["AWSTemplateFormatVersion"]);
        Assert.Equal("BotRoleArn", Map(Map(trust["Principal"])["AWS"])["Ref"]);
        Assert.Equal(["sts:AssumeRole"], Actions(trust));
        var choice = List(Map(trust["Condition"])["Fn::If"]);
        Assert.Equal("HasExternalId", choice[0]);
        Assert.Equal("ExternalId", Map(Map(Map(choice[1])["StringEquals"])["sts:ExternalId"])["Ref"]);
        Assert.Equal("AWS::NoValue", Map(choice[2])["Ref"]);
        var hasExternalId = List(Map(Map(MemberTemplate.Value["Conditions"])["HasExternalId"])["Fn::Not"]);
        Assert.Equal(["ExternalId", ""], List(Map(Assert.Single(hasExternalId))["Fn::Equals"]).Select(v => v is string text ? text : (string)Map(v)["Ref"]));
        Assert.Equal("RoleName", Map(MemberRole()["RoleName"])["Ref"]);
    }

    [Fact]
    public void MemberRoleGrantsOnlyPatchingWithTheSameLimitsAsTheBotsOwnAccount()
    {
        var statements = Map(Assert.Single(List(MemberRole()["Policies"])))["PolicyDocument"];
        var all = Statements(Map(statements)).Select(Map).ToList();
        var actions = all.SelectMany(Actions).ToHashSet();

        Assert.Equal(
            new HashSet<string> { "ssm:SendCommand", "ssm:ListCommandInvocations", "ssm:DescribeInstanceInformation", "ssm:StartAutomationExecution", "ssm:DescribeAutomationExecutions" },
            actions);
        Assert.All(actions, a => Assert.DoesNotContain("*", a, StringComparison.Ordinal));
        var targets = Assert.Single(all, s => (string)s["Sid"] == "PatchOnlyInstancesTaggedPatchable");
        Assert.Equal("true", Map(Map(targets["Condition"])["StringEquals"])["ssm:resourceTag/ChatOpsInspector-Patchable"]);
        Assert.All(Resources(Assert.Single(all, s => (string)s["Sid"] == "RunOnlyThePatchDocument")),
            r => Assert.EndsWith(":document/${PatchDocumentName}", r, StringComparison.Ordinal));
    }

    [Fact]
    public void BotMayAssumeOnlyTheNamedMemberRole()
    {
        var assume = Assert.Single(BotStatements(), s => Actions(s).Contains("sts:AssumeRole"));

        Assert.Equal(["sts:AssumeRole"], Actions(assume));
        Assert.Equal(["arn:${AWS::Partition}:iam::*:role/${MemberRoleName}"], Resources(assume));
    }
}
