using DePIN.Cli;

return args is ["demo", ..]
    ? await DemoCommands.Run(args is [_, "weather", .. var rest] ? rest : ["--help"], Console.Out, Console.Error)
    : await DatasetCommands.Run(args, Console.Out, Console.Error);
