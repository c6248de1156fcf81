from cuisineflow.cli import main

main()
