using DePIN.Cli;

return await DatasetCommands.Run(args, Console.Out, Console.Error);
