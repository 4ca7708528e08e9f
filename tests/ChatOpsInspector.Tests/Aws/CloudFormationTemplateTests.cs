using System.Text.RegularExpressions;
using YamlDotNet.Serialization;
using ChatOpsInspector.Tests.Infrastructure;

namespace ChatOpsInspector.Tests.Aws;

/// <summary>The deployment template, read with a plain YAML parser (it uses long-form intrinsics only).</summary>
public partial class CloudFormationTemplateTests
{
    private static readonly Lazy<Dictionary<object, object>> Template = new(() =>
        (Dictionary<object, object>)new DeserializerBuilder().Build().Deserialize<object>(
            File.ReadAllText(Path.Combine(Fixtures.FindSolutionDir(), "manifests", "aws", "chatopsinspector.yaml")))!);

    [Fact]
    public void TemplateIsPlainYamlWithTheExpectedParameters()
    {
        var parameters = Map(Template.Value["Parameters"]);

        Assert.Equal("2010-09-09", Template.Value["AWSTemplateFormatVersion"]);
        Assert.Subset(new HashSet<object>(parameters.Keys), new HashSet<object> { "BotUrl", "ApiKey", "MinSeverity", "CreateSqsQueue" });
        Assert.Equal("true", Map(parameters["ApiKey"])["NoEcho"]);
        Assert.Equal("CRITICAL", Map(parameters["MinSeverity"])["Default"]);
    }

    [Fact]
    public void RuleMatchesInspectorFindingEventsInEveryLifecycleState()
    {
        var pattern = Map(Properties("FindingsRule")["EventPattern"]);

        Assert.Equal(["aws.inspector2"], Strings(pattern["source"]));
        Assert.Equal(["Inspector2 Finding"], Strings(pattern["detail-type"]));
        Assert.Equal(["ACTIVE", "CLOSED", "SUPPRESSED"], Strings(Map(pattern["detail"])["status"]));
    }

    [Theory]
    [InlineData("CRITICAL", new[] { "CRITICAL" })]
    [InlineData("HIGH", new[] { "CRITICAL", "HIGH" })]
    [InlineData("MEDIUM", new[] { "CRITICAL", "HIGH", "MEDIUM" })]
    [InlineData("LOW", new[] { "CRITICAL", "HIGH", "MEDIUM", "LOW" })]
    public void RuleForwardsSeveritiesFromTheChosenMinimumUp(string minSeverity, string[] forwarded)
    {
        var parameters = new Dictionary<string, string> { ["MinSeverity"] = minSeverity, ["CreateSqsQueue"] = "false" };
        var severity = Map(Map(Properties("FindingsRule")["EventPattern"])["detail"])["severity"];

        Assert.Equal(forwarded, Strings(Resolve(severity, parameters)));
    }

    [Fact]
    public void ApiDestinationPostsToTheIngestEndpointWithTheApiKeyHeader()
    {
        var connection = Properties("InspectorConnection");
        var apiKey = Map(Map(connection["AuthParameters"])["ApiKeyAuthParameters"]);
        var destination = Properties("InspectorApiDestination");

        Assert.Equal("AWS::Events::Connection", Resource("InspectorConnection")["Type"]);
        Assert.Equal("API_KEY", connection["AuthorizationType"]);
        Assert.Equal("X-Api-Key", apiKey["ApiKeyName"]);
        Assert.Equal("ApiKey", Map(apiKey["ApiKeyValue"])["Ref"]);
        Assert.Equal("AWS::Events::ApiDestination", Resource("InspectorApiDestination")["Type"]);
        Assert.Equal("POST", destination["HttpMethod"]);
        Assert.Equal("${BotUrl}/api/inspector/events", Map(destination["InvocationEndpoint"])["Fn::Sub"]);
        Assert.Equal(["InspectorConnection", "Arn"], Strings(Map(destination["ConnectionArn"])["Fn::GetAtt"]));
    }

    [Fact]
    public void ApiDestinationTargetUsesARoleThatMayOnlyInvokeItAndHasADeadLetterQueue()
    {
        var target = Map(List(Properties("FindingsRule")["Targets"])[0]);
        var role = Properties("ApiDestinationInvokeRole");
        var statement = Map(Assert.Single(Statements(Map(Map(Assert.Single(List(role["Policies"])))["PolicyDocument"]))));

        Assert.Equal(["InspectorApiDestination", "Arn"], Strings(Map(target["Arn"])["Fn::GetAtt"]));
        Assert.Equal(["ApiDestinationInvokeRole", "Arn"], Strings(Map(target["RoleArn"])["Fn::GetAtt"]));
        Assert.Equal(["EventsDeadLetterQueue", "Arn"], Strings(Map(Map(target["DeadLetterConfig"])["Arn"])["Fn::GetAtt"]));
        Assert.Equal(["events:InvokeApiDestination"], Actions(statement));
        Assert.Equal(["InspectorApiDestination", "Arn"], Strings(Map(statement["Resource"])["Fn::GetAtt"]));
        Assert.Equal("events.amazonaws.com",
            Map(Map(Assert.Single(Statements(Map(role["AssumeRolePolicyDocument"]))))["Principal"])["Service"]);
    }

    [Fact]
    public void SqsQueueIsASecondTargetOnlyWhenRequested()
    {
        var parameters = new Dictionary<string, string> { ["MinSeverity"] = "CRITICAL" };
        var targets = List(Properties("FindingsRule")["Targets"]);

        Assert.Equal("CreateQueue", Resource("FindingsQueue")["Condition"]);
        Assert.Equal("CreateQueue", Resource("FindingsQueuePolicy")["Condition"]);
        parameters["CreateSqsQueue"] = "true";
        var withQueue = targets.Select(t => Resolve(t, parameters)).Where(t => t is not null).Select(Map).ToList();
        parameters["CreateSqsQueue"] = "false";
        var withoutQueue = targets.Select(t => Resolve(t, parameters)).Where(t => t is not null).ToList();

        Assert.Equal(2, withQueue.Count);
        Assert.Equal(["FindingsQueue", "Arn"], Strings(Map(withQueue[1]["Arn"])["Fn::GetAtt"]));
        Assert.Single(withoutQueue);
        var queueStatement = Map(Assert.Single(Statements(Map(Properties("FindingsQueuePolicy")["PolicyDocument"]))));
        Assert.Equal(["sqs:SendMessage"], Actions(queueStatement));
        Assert.Equal("events.amazonaws.com", Map(queueStatement["Principal"])["Service"]);
    }

    [Fact]
    public void NoIamPolicyInTheTemplateGrantsAWildcardAction()
    {
        var documents = PolicyDocuments(Template.Value["Resources"]).ToList();
        var actions = documents.SelectMany(Statements).SelectMany(s => Actions(Map(s))).ToList();

        Assert.True(documents.Count >= 5, $"Expected every policy document to be found, got {documents.Count}.");
        Assert.All(actions, action =>
        {
            Assert.DoesNotContain("*", action, StringComparison.Ordinal);
            Assert.Matches(ActionPattern(), action);
        });
    }

    [Fact]
    public void BotPolicyGrantsExactlyWhatTheBotCalls()
    {
        var actions = BotStatements().SelectMany(Actions).ToHashSet();

        Assert.Equal(
            new HashSet<string>
            {
                "inspector2:ListFindings", "inspector2:ListCoverage", "inspector2:ListFilters",
                "inspector2:CreateFilter", "inspector2:DeleteFilter",
                "ssm:SendCommand", "ssm:ListCommandInvocations", "ssm:DescribeInstanceInformation",
                "ssm:StartAutomationExecution", "ssm:DescribeAutomationExecutions",
                "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                "securityhub:BatchUpdateFindings",
                "sts:AssumeRole",
            },
            actions);
        Assert.All(BotStatements(), s => Assert.Equal("Allow", s["Effect"]));
    }

    [Fact]
    public void SendCommandIsLimitedToThePatchDocumentAndInstancesTaggedPatchable()
    {
        var sendCommand = BotStatements().Where(s => Actions(s).Contains("ssm:SendCommand")).ToList();

        Assert.Equal(2, sendCommand.Count);
        Assert.All(sendCommand, s => Assert.Equal(["ssm:SendCommand"], Actions(s)));
        var resources = sendCommand.SelectMany(s => Resources(s).Select(r => (Statement: s, Resource: r))).ToList();
        Assert.All(resources, r => Assert.NotEqual("*", r.Resource));

        var documents = resources.Where(r => r.Resource.Contains(":document/", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(documents);
        Assert.All(documents, r => Assert.EndsWith(":document/${PatchDocumentName}", r.Resource, StringComparison.Ordinal));

        var targets = resources.Except(documents).ToList();
        Assert.NotEmpty(targets);
        Assert.All(targets, r =>
        {
            Assert.Matches("(:instance/\\*|:managed-instance/\\*)$", r.Resource);
            var condition = Map(Map(r.Statement["Condition"])["StringEquals"]);
            Assert.Equal("true", condition["ssm:resourceTag/ChatOpsInspector-Patchable"]);
        });
    }

    [Fact]
    public void AutomationAndQueueAccessAreScopedToTheirOwnResources()
    {
        var automation = Assert.Single(BotStatements(), s => Actions(s).Contains("ssm:StartAutomationExecution"));
        var queue = Assert.Single(BotStatements(), s => Actions(s).Contains("sqs:ReceiveMessage"));

        Assert.All(Resources(automation), r => Assert.Contains(":automation-definition/${IsolationDocumentName}:", r, StringComparison.Ordinal));
        Assert.Equal(["FindingsQueue", "Arn"], Strings(Map(queue["Resource"])["Fn::GetAtt"]));
    }

    private static IEnumerable<Dictionary<object, object>> BotStatements() =>
        Statements(Map(Properties("BotPolicy")["PolicyDocument"])).Select(Map);

    private static Dictionary<object, object> Resource(string name) => Map(Map(Template.Value["Resources"])[name]);

    private static Dictionary<object, object> Properties(string name) => Map(Resource(name)["Properties"]);

    /// <summary>Statements of a policy document, taking both branches of any Fn::If and dropping AWS::NoValue.</summary>
    private static IEnumerable<object> Statements(Dictionary<object, object> document)
    {
        var statement = document["Statement"];
        foreach (var item in statement is List<object> list ? list : [statement])
        {
            foreach (var branch in Branches(item))
            {
                yield return branch;
            }
        }
    }

    private static IEnumerable<object> Branches(object item)
    {
        if (item is Dictionary<object, object> map && map.TryGetValue("Fn::If", out var fnIf))
        {
            foreach (var branch in List(fnIf).Skip(1).SelectMany(Branches))
            {
                yield return branch;
            }
        }
        else if (!(item is Dictionary<object, object> noValue && noValue.TryGetValue("Ref", out var r) && Equals(r, "AWS::NoValue")))
        {
            yield return item;
        }
    }

    private static IEnumerable<Dictionary<object, object>> PolicyDocuments(object node)
    {
        switch (node)
        {
            case Dictionary<object, object> map:
                foreach (var (key, value) in map)
                {
                    if (key is "PolicyDocument" or "AssumeRolePolicyDocument")
                    {
                        yield return Map(value);
                    }
                    else
                    {
                        foreach (var nested in PolicyDocuments(value))
                        {
                            yield return nested;
                        }
                    }
                }

                break;
            case List<object> list:
                foreach (var nested in list.SelectMany(PolicyDocuments))
                {
                    yield return nested;
                }

                break;
        }
    }

    private static List<string> Actions(object statement)
    {
        var action = Map(statement)["Action"];
        return action is string single ? [single] : Strings(action);
    }

    private static List<string> Resources(Dictionary<object, object> statement)
    {
        var resource = statement["Resource"];
        return (resource is List<object> list ? list : [resource])
            .Select(r => r is string s ? s : (string)Map(r)["Fn::Sub"])
            .ToList();
    }

    /// <summary>Evaluates Fn::If (and the template's Conditions) for the given parameter values.</summary>
    private static object? Resolve(object node, IReadOnlyDictionary<string, string> parameters)
    {
        if (node is Dictionary<object, object> map && map.TryGetValue("Fn::If", out var fnIf))
        {
            var parts = List(fnIf);
            var chosen = Condition((string)parts[0], parameters) ? parts[1] : parts[2];
            return Resolve(chosen, parameters);
        }

        if (node is Dictionary<object, object> noValue && noValue.TryGetValue("Ref", out var r) && Equals(r, "AWS::NoValue"))
        {
            return null;
        }

        return node;
    }

    private static bool Condition(string name, IReadOnlyDictionary<string, string> parameters) =>
        Evaluate(Map(Template.Value["Conditions"])[name], parameters);

    private static bool Evaluate(object expression, IReadOnlyDictionary<string, string> parameters)
    {
        var (function, argument) = Map(expression).Single();
        return function switch
        {
            "Fn::Equals" => Value(List(argument)[0], parameters) == Value(List(argument)[1], parameters),
            "Fn::Not" => !Evaluate(List(argument)[0], parameters),
            "Fn::Or" => List(argument).Any(a => Evaluate(a, parameters)),
            "Fn::And" => List(argument).All(a => Evaluate(a, parameters)),
            "Condition" => Condition((string)argument, parameters),
            _ => throw new NotSupportedException($"Condition function {function}"),
        };
    }

    private static string Value(object node, IReadOnlyDictionary<string, string> parameters) =>
        node is string literal
            ? literal
            : parameters.TryGetValue((string)Map(node)["Ref"], out var value)
                ? value
                : (string)Map(Map(Map(Template.Value["Parameters"])[Map(node)["Ref"]]))["Default"];

    private static Dictionary<object, object> Map(object? node) => Assert.IsType<Dictionary<object, object>>(node);

    private static List<object> List(object? node) => Assert.IsType<List<object>>(node);

    private static List<string> Strings(object? node) => List(node).Select(i => Assert.IsType<string>(i)).ToList();

    [GeneratedRegex("^[a-z0-9-]+:[A-Za-z]+$")]
    private static partial Regex ActionPattern();
}
