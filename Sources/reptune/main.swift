print("reptune")
