// What every command of the depin tool speaks: the platform's HTTP contract and its JSON.
global using System.Net.Http.Json;
global using System.Text.Json;
global using System.Text.Json.Nodes;
global using DePIN.Abstractions.Datasets;
global using DePIN.Abstractions.Http;
