using System.Text.Json;
using System.Text.Json.Nodes;
using ChatOpsInspector.Tests.Infrastructure;
using Json.Schema;

namespace ChatOpsInspector.Tests.Teams;

internal static class Schemas
{
    private static readonly Lazy<JsonSchema> AdaptiveCard = new(() => JsonSchema.FromText(
        Fixtures.Read("schemas", "adaptive-card-1.5.0.schema.json"),
        new BuildOptions { Dialect = Dialect.Draft06 },
        new Uri("http://adaptivecards.io/schemas/1.5.0/adaptive-card.json")));

    // The Teams manifest schema is draft-04, which JsonSchema.Net does not implement. It uses none of
    // the keywords whose meaning changed after draft-04 (boolean exclusiveMinimum/Maximum, "id"), so it
    // is evaluated as draft-07 after rewriting its $schema.
    private static readonly Lazy<JsonSchema> TeamsManifest = new(() =>
    {
        var schema = JsonNode.Parse(Fixtures.Read("schemas", "teams-manifest", "MicrosoftTeams.schema.v1.17.json"))!.AsObject();
        schema["$schema"] = "http://json-schema.org/draft-07/schema#";
        return JsonSchema.FromText(schema.ToJsonString(), new BuildOptions { Dialect = Dialect.Draft07 },
            new Uri("https://developer.microsoft.com/json-schemas/teams/v1.17/MicrosoftTeams.schema.json"));
    });

    public static void AssertValidCard(JsonNode? card) => AssertValid(AdaptiveCard.Value, card, "Adaptive Card 1.5");

    public static void AssertValidManifest(JsonNode? manifest) => AssertValid(TeamsManifest.Value, manifest, "Teams manifest 1.17");

    public static bool IsValidCard(JsonNode? card) =>
        AdaptiveCard.Value.Evaluate(JsonDocument.Parse(card!.ToJsonString()).RootElement, new EvaluationOptions()).IsValid;

    private static void AssertValid(JsonSchema schema, JsonNode? instance, string what)
    {
        Assert.NotNull(instance);
        using var doc = JsonDocument.Parse(instance.ToJsonString());
        var result = schema.Evaluate(doc.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (!result.IsValid)
        {
            var errors = (result.Details ?? [])
                .Where(d => d.Errors is { Count: > 0 })
                .Select(d => $"{d.InstanceLocation}: {string.Join("; ", d.Errors!.Values)}")
                .Take(20);
            Assert.Fail($"Not a valid {what}:\n{string.Join("\n", errors)}\n{instance.ToJsonString()[..Math.Min(2000, instance.ToJsonString().Length)]}");
        }
    }
}
