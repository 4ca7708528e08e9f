using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ChatOpsInspector.Teams;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Tests.Slack;
using ChatOpsInspector.Tests.Teams;
using Microsoft.Playwright;

namespace ChatOpsInspector.Tests.Cards;

/// <summary>
/// Every card of <see cref="CardGallery"/> judged by what its readers use: Teams cards parsed and
/// validated by Microsoft's own Adaptive Cards library (npm <c>adaptivecards</c>, pinned in .ci/run),
/// Slack messages checked against Block Kit's limits. With CARD_DOCS_DIR set (docs/cards), it also
/// writes the README gallery: Teams cards rendered by that library in chromium at phone width, and
/// each Slack message's Block Kit JSON with its Block Kit Builder link.
/// </summary>
[Trait("Category", "Renderer")]
public sealed class CardRendererTests
{
    private static readonly JsonSerializerOptions Readable = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static string Library => Environment.GetEnvironmentVariable("ADAPTIVECARDS_JS")
        ?? Path.Combine(Fixtures.FindSolutionDir(), ".tools", "adaptivecards", "node_modules", "adaptivecards", "dist", "adaptivecards.js");

    private static string? Node => new[] { "/usr/bin/node", "/usr/local/bin/node" }.FirstOrDefault(File.Exists);

    [SkippableFact]
    public async Task EveryTeamsCardParsesAndValidatesInMicrosoftsAdaptiveCardsLibraryWithoutAWarning()
    {
        Skip.If(Node is null, "node is not installed (.ci/run installs it)");
        Skip.IfNot(File.Exists(Library), $"npm adaptivecards is not installed at {Library} (.ci/run installs it)");
        var cards = new JsonObject();
        foreach (var entry in CardGallery.All())
        {
            var view = entry.View;
            cards[entry.Name] = AlertCardRenderer.Render(view, AlertCardRendererTests.Everything(view));
            cards[entry.Name + " (read-only viewer)"] = AlertCardRenderer.Render(view, AlertCardRendererTests.Everything(view) with { Allowed = new HashSet<global::ChatOpsInspector.Cards.CardAction>() });
        }
        cards["message"] = AlertCardRenderer.Message("Not allowed", "Only the owner's approvers can approve.", isError: true);
        var file = Path.Combine(Path.GetTempPath(), $"cards-{Guid.NewGuid():n}.json");
        await File.WriteAllTextAsync(file, cards.ToJsonString());
        try
        {
            var (exit, stdout, stderr) = await RunAsync(Node!, [Path.Combine(Fixtures.FindSolutionDir(), "tools", "cards", "validate.js"), Library, file]);
            Assert.True(exit == 0, $"validate.js failed: {stderr}");
            var results = JsonNode.Parse(stdout)!.AsObject();
            Assert.Equal(cards.Count, results.Count);
            var warnings = results.SelectMany(r => r.Value!.AsArray().Select(m => $"{r.Key}: {m}")).ToArray();
            Assert.True(warnings.Length == 0, string.Join('\n', warnings));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void EverySlackCardStaysWithinBlockKitLimits()
    {
        foreach (var entry in CardGallery.All())
        {
            BlockKitLimits.AssertValid(CardGallery.SlackMessage(entry)["blocks"]!.AsArray());
        }
    }

    /// <summary>Writes docs/cards when CARD_DOCS_DIR is set: <c>CARD_DOCS_DIR=docs/cards dotnet test --filter Category=Renderer</c>.</summary>
    [SkippableFact]
    public async Task GalleryForTheReadme()
    {
        var target = Environment.GetEnvironmentVariable("CARD_DOCS_DIR");
        Skip.If(string.IsNullOrEmpty(target), "CARD_DOCS_DIR is not set: the README gallery is written only on request");
        Skip.IfNot(File.Exists("/usr/bin/chromium"), "/usr/bin/chromium is not installed");
        Skip.IfNot(File.Exists(Library), $"npm adaptivecards is not installed at {Library}");
        var dir = Path.GetFullPath(target!, Fixtures.FindSolutionDir());
        Directory.CreateDirectory(dir);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = "/usr/bin/chromium", Args = ["--headless", "--no-sandbox", "--disable-gpu"] });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 380, Height = 1600 }, DeviceScaleFactor = 1 });
        await page.GotoAsync(new Uri(Path.Combine(Fixtures.FindSolutionDir(), "tools", "cards", "render.html")).AbsoluteUri);
        await page.AddScriptTagAsync(new() { Path = Library.Replace("adaptivecards.js", "adaptivecards.min.js", StringComparison.Ordinal) });

        var index = new StringBuilder("# Card gallery\n\nEvery card state and finding type, from Inspector's published sample events. ")
            .Append("Teams: rendered by Microsoft's Adaptive Cards library (npm `adaptivecards`) in chromium at 360 px. ")
            .Append("Slack: the Block Kit JSON; open it in Block Kit Builder to see it.\n\n")
            .Append("Regenerate: `CARD_DOCS_DIR=docs/cards dotnet test tests/ChatOpsInspector.Tests -c Release --filter Category=Renderer`.\n");
        foreach (var entry in CardGallery.All())
        {
            var view = entry.View;
            var card = AlertCardRenderer.Render(view, AlertCardRendererTests.Everything(view) with { RefreshUserIds = [] });
            await page.EvaluateAsync("json => window.renderCard(JSON.parse(json))", card.ToJsonString());
            await page.Locator("#card").ScreenshotAsync(new() { Path = Path.Combine(dir, $"teams-{entry.Name}.png") });

            var slack = CardGallery.SlackMessage(entry);
            await File.WriteAllTextAsync(Path.Combine(dir, $"slack-{entry.Name}.json"), slack.ToJsonString(Readable) + "\n");
            var builder = "https://app.slack.com/block-kit-builder/#" + Uri.EscapeDataString(slack.ToJsonString());
            index.Append("\n## ").Append(entry.Title).Append("\n\n")
                .Append("![Teams: ").Append(entry.Title).Append("](teams-").Append(entry.Name).Append(".png)\n\n")
                .Append("Slack: [Block Kit JSON](slack-").Append(entry.Name).Append(".json) · [open in Block Kit Builder](").Append(builder).Append(")\n");
        }
        await File.WriteAllTextAsync(Path.Combine(dir, "README.md"), index.ToString());
    }

    private static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(string file, string[] args)
    {
        var start = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }
}
