using System.Text.Json.Nodes;
using ChatOpsInspector.Commands;

namespace ChatOpsInspector.Teams;

/// <summary>
/// A chart as an Adaptive Card: a title and an Image whose url is a <c>data:image/png;base64</c> URI, which
/// the Image element takes from schema 1.2 on. Teams renders card images up to 1024×1024 px and 1 MB, and
/// does not count base64 images against the bot message size limit.
/// </summary>
internal static class ChartCard
{
    public static JsonObject Render(ChartImage chart) => new()
    {
        ["type"] = "AdaptiveCard",
        ["$schema"] = "http://adaptivecards.io/schemas/adaptive-card.json",
        ["version"] = "1.5",
        ["body"] = new JsonArray(
            new JsonObject
            {
                ["type"] = "TextBlock",
                ["text"] = TeamsText.Escape(chart.Title),
                ["weight"] = "Bolder",
                ["wrap"] = true,
            },
            new JsonObject
            {
                ["type"] = "Image",
                ["url"] = "data:image/png;base64," + Convert.ToBase64String(chart.Png),
                ["altText"] = chart.AltText,
                ["size"] = "Stretch",
            }),
    };
}
