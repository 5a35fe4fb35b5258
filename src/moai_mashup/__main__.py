from moai_mashup.cli import main

main()
