namespace ChatOpsInspector.Tests.Slack;

/// <summary>One Redis-backed bot and Slack fake for all Slack integration tests, which then run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class SlackCollection : ICollectionFixture<SlackApp>
{
    public const string Name = "Slack app";
}
