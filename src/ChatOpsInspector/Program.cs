using ChatOpsInspector.Alerts;
using ChatOpsInspector.Findings;
using ChatOpsInspector.Ingest;
using ChatOpsInspector.Operations;
using ChatOpsInspector.Sla;
using ChatOpsInspector.State;

var builder = WebApplication.CreateBuilder(args);

builder.AddOperations();
builder.AddState();
builder.AddFindings();
builder.AddIngest();
builder.AddAlerts();
builder.AddSla();

var app = builder.Build();

app.UseOperations();
app.MapOperations();
app.MapIngest();

app.Run();

/// <summary>Entry point type, visible to integration tests.</summary>
public partial class Program;
