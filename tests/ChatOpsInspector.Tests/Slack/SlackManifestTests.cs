using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ChatOpsInspector.Tests.Infrastructure;
using Json.Schema;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ChatOpsInspector.Tests.Slack;

/// <summary>The app manifest against Slack's own manifest schema (slackapi/manifest-schema).</summary>
public class SlackManifestTests
{
    private const string SchemaBase = "https://raw.githubusercontent.com/slackapi/manifest-schema/v0.5.0/schemas/";

    private static readonly Lazy<JsonSchema> Schema = new(() =>
    {
        var dir = Fixtures.Path_("schemas", "slack-manifest");
        // The versioned files declare no $schema; the dispatching file says draft-07, so build them all as draft-07.
        var options = new BuildOptions { SchemaRegistry = new SchemaRegistry(), Dialect = Dialect.Draft07 };
        foreach (var version in new[] { "1.0.0", "2.0.0" })
        {
            var file = $"manifest.schema.{version}.json";
            var uri = new Uri(SchemaBase + file);
            options.SchemaRegistry.Register(uri, JsonSchema.FromFile(Path.Combine(dir, file), options, uri));
        }
        return JsonSchema.FromFile(Path.Combine(dir, "manifest.schema.json"), options);
    });

    private static JsonNode Manifest(string file = "app-manifest.yaml") =>
        FromYaml(File.ReadAllText(Path.Combine(Fixtures.FindSolutionDir(), "manifests", "slack", file)));

    private static EvaluationResults Validate(JsonNode manifest) =>
        Schema.Value.Evaluate(JsonDocument.Parse(manifest.ToJsonString()).RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });

    private static string Errors(EvaluationResults results) => string.Join("\n",
        (results.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")));

    [Fact]
    public void ManifestIsValidAgainstSlacksManifestSchema()
    {
        var results = Validate(Manifest());
        Assert.True(results.IsValid, Errors(results));
    }

    [Fact]
    public void SocketModeManifestIsValidHasNoRequestUrlsAndTheSameScopesAndFeatures()
    {
        var socket = Manifest("app-manifest.socket-mode.yaml");
        var http = Manifest();

        var results = Validate(socket);

        Assert.True(results.IsValid, Errors(results));
        Assert.True(socket["settings"]!["socket_mode_enabled"]!.GetValue<bool>());
        Assert.DoesNotContain("url", socket.ToJsonString(), StringComparison.Ordinal);
        Assert.True(JsonNode.DeepEquals(http["oauth_config"], socket["oauth_config"]));
        Assert.Equal(http["settings"]!["event_subscriptions"]!["bot_events"]!.ToJsonString(), socket["settings"]!["event_subscriptions"]!["bot_events"]!.ToJsonString());
        Assert.Equal(http["features"]!["slash_commands"]![0]!["command"]!.GetValue<string>(), socket["features"]!["slash_commands"]![0]!["command"]!.GetValue<string>());
    }

    [Fact]
    public void SchemaRejectsSlacksOwnInvalidSample()
    {
        Assert.False(Validate(JsonNode.Parse(Fixtures.Read("schemas", "slack-manifest", "v1-manifest.invalid.json"))!).IsValid);
        Assert.True(Validate(JsonNode.Parse(Fixtures.Read("schemas", "slack-manifest", "v1-manifest.valid.json"))!).IsValid);
    }

    [Fact]
    public void SchemaCatchesAMistakeInOurManifest()
    {
        var manifest = Manifest();
        manifest["features"]!["slash_commands"]![0]!["command"] = "vulns";
        Assert.False(Validate(manifest).IsValid);
    }

    [Fact]
    public void ManifestAsksOnlyForTheScopesTheBotUses()
    {
        var manifest = Manifest();
        var scopes = manifest["oauth_config"]!["scopes"]!["bot"]!.AsArray().Select(s => s!.GetValue<string>()).Order().ToArray();
        Assert.Equal(["app_mentions:read", "chat:write", "commands", "files:write", "im:write", "users:read", "users:read.email"], scopes);
        Assert.Null(manifest["oauth_config"]!["scopes"]!["user"]);
    }

    [Fact]
    public void ManifestPointsSlackAtTheBotsEndpoints()
    {
        var manifest = Manifest();
        var command = manifest["features"]!["slash_commands"]![0]!;
        Assert.Equal("/vulns", command["command"]!.GetValue<string>());
        Assert.EndsWith("/api/slack/commands", command["url"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(command["should_escape"]!.GetValue<bool>());
        Assert.EndsWith("/api/slack/interactions", manifest["settings"]!["interactivity"]!["request_url"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.EndsWith("/api/slack/events", manifest["settings"]!["event_subscriptions"]!["request_url"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(["app_mention"], manifest["settings"]!["event_subscriptions"]!["bot_events"]!.AsArray().Select(e => e!.GetValue<string>()));
        Assert.NotNull(manifest["features"]!["bot_user"]);
    }

    /// <summary>YAML to JSON with YAML 1.2 core types for plain scalars (true/false, integers, floats).</summary>
    private static JsonNode FromYaml(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return Convert(stream.Documents[0].RootNode)!;
    }

    private static JsonNode? Convert(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value!, Convert(c.Value)))),
        YamlSequenceNode seq => new JsonArray(seq.Children.Select(Convert).ToArray()),
        YamlScalarNode { Style: ScalarStyle.Plain } s when s.Value is "true" or "false" => JsonValue.Create(s.Value == "true"),
        YamlScalarNode { Style: ScalarStyle.Plain } s when long.TryParse(s.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) => JsonValue.Create(l),
        YamlScalarNode { Style: ScalarStyle.Plain } s when s.Value is "null" or "~" or "" => null,
        YamlScalarNode s => JsonValue.Create(s.Value),
        _ => throw new InvalidOperationException($"Unexpected YAML node {node.NodeType}"),
    };
}
