using ChatOpsInspector.Alerts;
using ChatOpsInspector.Findings;
using ChatOpsInspector.Ingest;
using ChatOpsInspector.Operations;
using ChatOpsInspector.State;
using ChatOpsInspector.Teams;

var builder = WebApplication.CreateBuilder(args);

builder.AddOperations();
builder.AddState();
builder.AddFindings();
builder.AddIngest();
builder.AddAlerts();
builder.AddTeams();

var app = builder.Build();

app.UseOperations();
app.MapOperations();
app.MapIngest();
app.MapTeams();

app.Run();

/// <summary>Entry point type, visible to integration tests.</summary>
public partial class Program;
